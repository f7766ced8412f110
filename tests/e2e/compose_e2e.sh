#!/usr/bin/env bash
# End-to-end test of the Docker Compose mode, run by .ci/run after `make test` (it needs a Docker
# engine: scripts/ensure-docker.sh). It drives the real launcher (scripts/compose-env.sh, the Compose
# mode of ./launch-env) on a project of its own (consult-db-e2e) and a free port, so that a system
# the user launched is left alone:
#   launch 3 clusters; set/get/list-keys/delete through the LB's published port; stop a non-leader
#   cluster while requests run: none fails; stop the leader's cluster: a new leader with a higher
#   term, writes resume, no acknowledged key is lost; rescale to 5: the new clusters serve; down:
#   nothing of the project remains. Security (docs/SECURITY.md): the launcher creates its own secrets
#   file (mode 0600), every Redis refuses clients without the right user and password even from inside
#   the network, the slaves' user may not FLUSHALL, no Redis port is published, the containers are
#   read-only without capabilities, and no password is on a command line.
# Prints "N passed, M failed" last and exits 1 on any failure. Every wait is bounded; the caller
# bounds the whole run too (timeout). Cleans up on any exit, with the containers' logs on failure.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
export COMPOSE_PROJECT_NAME=${E2E_PROJECT:-consult-db-e2e}
launcher=$repo/scripts/compose-env.sh
project_filter=label=com.docker.compose.project=$COMPOSE_PROJECT_NAME
# shellcheck source=scripts/lb-client.sh
source "$repo/scripts/lb-client.sh"

work=$(mktemp -d)
# Passwords of its own, created by the launcher: the user's secrets file is left alone.
export CONSULT_DB_SECRETS_FILE=$work/secrets/secrets.env
# shellcheck source=tests/e2e/lib.sh
source "$repo/tests/e2e/lib.sh"


first_failure_logs() { container_logs; }
container_logs() {
  local id
  for id in $(docker ps -aq --filter "$project_filter"); do
    echo "---- $(docker inspect -f '{{.Name}} ({{.State.Status}})' "$id")"
    docker logs --tail 40 "$id" 2>&1
  done
}

take_down() { "$launcher" down >/dev/null 2>&1 || true; }
finish() { finish_test "logs of the project's containers" container_logs take_down "$@"; }
trap finish EXIT
trap 'fail "interrupted (time limit?)"; finish interrupted' INT TERM


cluster_container() { docker ps -q --filter "$project_filter" --filter "label=com.docker.compose.service=slave-$1"; }
stop_cluster() { quietly docker stop -t 5 "$(cluster_container "$1")"; }
# slave_serves INDEX PATH: straight to that cluster's slave from inside its container (its port is
# not published): the slave's own probe client sends a GET and succeeds on a 2xx answer.
slave_serves() { quietly docker exec "$(cluster_container "$1")" slave --probe "$2"; }
lb_container() { docker ps -q --filter "$project_filter" --filter "label=com.docker.compose.service=lb"; }
# redis_answer FROM TO COMMAND...: redis-cli in cluster FROM's container to cluster TO's Redis, with
# $user and $password when set (see as_user). The password goes through the environment
# (REDISCLI_AUTH), never on a command line. Prints the answer.
redis_answer() {
  local from=$1 to=$2; shift 2
  REDISCLI_AUTH=${password:-} docker exec -e REDISCLI_AUTH "$(cluster_container "$from")" \
    redis-cli --no-auth-warning ${user:+--user "$user"} -h "slave-$to" "$@" 2>&1
}
as_user() { local user=$1 password=$2; shift 2; "$@"; }  # as_user USER PASSWORD command...
answer_has() { local expected=$1; shift; [[ $("$@") == *"$expected"* ]]; }  # answer_has TEXT command...
secrets_file_private() { [[ $(stat -c %a "$CONSULT_DB_SECRETS_FILE") == 600 ]]; }
no_redis_port_published() {
  local id
  for id in $(docker ps -q --filter "$project_filter"); do
    [[ $id == "$(lb_container)" ]] && continue
    [[ -z $(docker port "$id") ]] || return 1
  done
  [[ $(docker port "$(lb_container)") == "8080/tcp -> 127.0.0.1:$port" ]]
}
locked_down() {  # every container: read-only root, all capabilities dropped, no-new-privileges, uid 10001
  local id
  for id in $(docker ps -q --filter "$project_filter"); do
    [[ $(docker inspect -f '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}} {{.Config.User}}' "$id") == \
       "true [ALL] [no-new-privileges:true] 10001:10001" ]] || return 1
  done
}
no_password_on_a_command_line() {
  local id name value commands
  for id in $(docker ps -q --filter "$project_filter"); do
    commands=$(docker exec "$id" bash -c 'cat /proc/[0-9]*/cmdline' | tr '\0' ' ')
    [[ -n $commands ]] || return 1
    while IFS='=' read -r name value; do
      [[ $commands != *"$value"* ]] || { echo "        $name is on a command line in $id"; return 1; }
    done <"$CONSULT_DB_SECRETS_FILE"
  done
}

started=$(date +%s)
port=$(free_port) || { fail "no free port in 28080..28179"; exit 1; }
LB_URL=http://127.0.0.1:$port
# The Compose the launcher picks (CONSULT_DB_COMPOSE=v1|v2 insists on one: scripts/compose-env.sh).
if [[ ${CONSULT_DB_COMPOSE:-} != v1 ]] && docker compose version >/dev/null 2>&1; then
  compose_version="v2 ($(docker compose version --short 2>/dev/null))"
else
  compose_version="v1 ($(docker-compose version --short 2>/dev/null))"
fi
echo "== end-to-end test on Compose project $COMPOSE_PROJECT_NAME, LB port $port, Compose $compose_version"
"$launcher" down >/dev/null 2>&1  # leftovers of an interrupted run

section "launch 3 clusters"
launched=$(date +%s)
if "$launcher" 3 "$port" >"$work/launch.log" 2>&1; then
  pass "launch-env 3 is ready in $(( $(date +%s) - launched )) s"
else
  fail "launch-env 3"; tail -n 30 "$work/launch.log"; exit 1
fi
check "3 clusters ready" ready_is 3

section "authentication and least privilege"
check "the launcher created the secrets file with mode 600" secrets_file_private
check "Redis refuses a client without a password, from inside the network (NOAUTH)" \
  answer_has NOAUTH redis_answer 0 1 PING
check "Redis refuses a wrong password (WRONGPASS)" \
  answer_has WRONGPASS as_user cdb-data wrong-password-000000 redis_answer 0 2 PING
data_password=$(sed -n 's/^REDIS_DATA_PASSWORD=//p' "$CONSULT_DB_SECRETS_FILE")
check "the slaves' user may PING" answer_has PONG as_user cdb-data "$data_password" redis_answer 1 0 PING
check "the slaves' user may not FLUSHALL (NOPERM)" \
  answer_has NOPERM as_user cdb-data "$data_password" redis_answer 1 0 FLUSHALL
unset data_password
check "no Redis port is published, the LB's only on 127.0.0.1" no_redis_port_published
check "containers are read-only, without capabilities, as uid 10001" locked_down
check "no password is on a command line" no_password_on_a_command_line

section "data API through the LB"
check_data_api
page_served() { request GET /lb/ui; [[ $code == 200 && $body == *'<script src="/lb/ui/app.js"'* ]]; }
check "the topology page is served" page_served
check "PUT /lb/size without the admin token is refused (401)" answers 401 PUT /lb/size '{"size":1}'
check "and nothing drains" ready_is 3

section "stop a cluster that is not the leader, while requests run"
leader=$(status_field leader)
victim=$(( (leader + 1) % 3 ))
traffic_in_background 100 during-stop
sleep 0.3
check "docker stop slave-$victim (leader is $leader)" stop_cluster "$victim"
wait
check "no request failed while slave-$victim stopped" traffic_collected during-stop
check "the LB stays healthy" healthz_ok
check "2 clusters ready" until_true 30 ready_is 2
check "100 more requests succeed" traffic 100 after-stop

section "stop the leader's cluster"
old_term=$(status_field term)
old_leader=$(status_field leader)
check "docker stop slave-$old_leader (term $old_term)" stop_cluster "$old_leader"
new_leader_elected() {
  local status; status=$(lb_status)
  [[ $(status_field term "$status") -gt $old_term && -n $(status_field leader "$status") &&
     $(status_field leader "$status") != "$old_leader" ]]
}
elected_at=$(date +%s)
check "a new leader with a higher term" until_true 60 new_leader_elected
echo "        term $(status_field term), leader $(status_field leader), after about $(( $(date +%s) - elected_at )) s"
check "the LB stays healthy" healthz_ok
check "writes resume" until_true 30 set_key resumed yes
check "50 more requests succeed" traffic 50 after-failover
check "no acknowledged key is lost (${#acked[@]} keys)" no_key_lost

section "rescale to 5"
if "$launcher" 5 >"$work/rescale.log" 2>&1; then pass "launch-env 5"; else fail "launch-env 5"; tail -n 30 "$work/rescale.log"; fi
check "5 clusters ready" ready_is 5
for index in 3 4; do
  check "slave-$index serves a read" slave_serves "$index" /get/resumed
done
check "100 requests succeed across 5 clusters" traffic 100 after-rescale
check "no acknowledged key is lost (${#acked[@]} keys)" no_key_lost

section "down"
check "launch-env down" quietly "$launcher" down
check "no container of the project remains" [ -z "$(docker ps -aq --filter "$project_filter")" ]
check "no network of the project remains" [ -z "$(docker network ls -q --filter "$project_filter")" ]
check "no volume of the project remains" [ -z "$(docker volume ls -q --filter "$project_filter")" ]
echo "== end-to-end test took $(( $(date +%s) - started )) s"
