#!/usr/bin/env bash
# End-to-end test of the Kubernetes mode (make k8s-e2e), on whatever cluster KUBECONFIG's current
# context names: kind for users (make kind-up), the real single-node cluster of scripts/k8s-local.sh in
# CI. It deploys the generated manifests the way scripts/kind-env.sh does (scripts/k8s-lib.sh):
#   load both images into the node's runtime; namespace, Secret, the manifests for 3 clusters;
#   rollout; kubectl port-forward svc/lb; set/get/list-keys/delete through it; delete the leader's
#   pod: a new leader with a higher term, writes resume, no acknowledged key is lost, the pod comes
#   back as the same slave-i and rejoins as a follower; delete a follower's pod: the new pod is Ready
#   only once its Redis replicates the leader's and holds the data; re-apply the manifests for 5
#   clusters: the new pods serve and no existing pod restarts; drain to 3 (PUT /lb/size, then
#   `drained` in /lb/status) and scale down: no key lost; under 64 clients (load_check: nothing lost,
#   linearizable, the failed requests counted), a rolling restart of the slaves and the deletion of the
#   leader's pod; delete the namespace.
# Images: K8S_E2E_LOAD=kind|k8s-local|none (default: kind for a kind-* context, k8s-local for the
# k8s-local context, else none: the cluster must already have them). The namespace consult-db must
# not exist (make kind-down first): the test deletes it at the end.
# Prints "N passed, M failed" last and exits 1 on any failure, with the pods, their events and their
# logs. Every wait is bounded; the caller bounds the whole run too (timeout).
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
kube_context=""   # KUBECONFIG's current context
work=$(mktemp -d)
run_dir=$work
# Passwords of its own: the user's secrets file is left alone.
export CONSULT_DB_SECRETS_FILE=$work/secrets/secrets.env
LB_URL=""         # set by start_port_forward
die() { echo "k8s-e2e: $*" >&2; exit 1; }
# shellcheck source=scripts/lb-client.sh
source "$repo/scripts/lb-client.sh"
# shellcheck source=scripts/redis-secrets.sh
source "$repo/scripts/redis-secrets.sh"
# shellcheck source=scripts/k8s-lib.sh
source "$repo/scripts/k8s-lib.sh"
# shellcheck source=tests/e2e/lib.sh
source "$repo/tests/e2e/lib.sh"
load_kind_facts || die "generator/generate --target kind --facts failed"
wait_s=${K8S_E2E_WAIT_S:-120}   # each wait for pods, a leader or the LB

diagnostics() {  # the pods, the namespace's events, every container's logs (the previous run's too)
  local pod
  echo "---- pods"; kube get pods -o wide 2>&1
  echo "---- events"; kube get events --sort-by=.lastTimestamp 2>&1 | tail -n 60
  for pod in $(kube get pods -o name 2>/dev/null); do
    echo "---- logs of $pod"; kube logs "$pod" --all-containers --prefix --tail 40 2>&1
    kube logs "$pod" --all-containers --prefix --previous --tail 20 2>/dev/null
  done
  [[ -z $LB_URL ]] || { echo "---- /lb/status"; lb_status; echo; }
  echo "---- port-forward log"; cat "$run_dir/port-forward.log" 2>/dev/null
}
first_failure_logs() { diagnostics; }

cleanup_done=false
cleanup() {  # the port-forward and the namespace (everything the manifests create is in it)
  $cleanup_done && return 0
  cleanup_done=true
  stop_port_forward
  kubectl_any delete namespace "$namespace" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1
}
finish() { finish_test "pods, events and logs" diagnostics cleanup "$@"; }
trap finish EXIT
trap 'fail "interrupted (time limit?)"; finish interrupted' INT TERM

# PUT /lb/size with the admin token of the secrets file when it has one (control-plane
# authentication): the header goes through a file of mode 600, never on a command line.
auth_header_file=$work/admin-header
put_size() {  # size
  local args=(-s -o "$work/size-body" -w '%{http_code}' --max-time 5 -X PUT "$LB_URL/lb/size" -d "{\"size\":$1}")
  [[ -s $auth_header_file ]] && args+=(-H "@$auth_header_file")
  code=$(curl "${args[@]}" 2>/dev/null) || true
  [[ $code == 2?? ]] || { echo "        PUT /lb/size $1 answered $code $(cat "$work/size-body" 2>/dev/null)"; return 1; }
}
drained_are() {  # FROM TO: every index in [FROM, TO) is reported drained
  wait_drained "$1" "$2" "$wait_s"
}

# cluster_entry I [STATUS]: cluster I's object in /lb/status's "clusters" list
cluster_entry() {
  local status=${2-$(lb_status)}
  [[ $status =~ \{\"index\":$1,[^}]*\} ]] && echo "${BASH_REMATCH[0]}"
}
# rejoined_as_follower I: cluster I is ready, its slave follows the current term's leader, which is
# another cluster, and its Redis replicates
rejoined_as_follower() {
  local status entry term leader
  status=$(lb_status); entry=$(cluster_entry "$1" "$status")
  term=$(status_field term "$status"); leader=$(status_field leader "$status")
  [[ $leader != "$1" && ,$(status_field ready "$status" | tr -d '[]'), == *",$1,"* &&
     $entry == *"\"slave_term\":$term,\"slave_leader\":$leader"* && $entry == *'"redis_role":"replica"'* ]]
}
pod_uid() { kube get pod "$1" -o jsonpath='{.metadata.uid}' 2>/dev/null; }
pod_ready_again() {  # NAME OLD_UID: a new pod of that name is Ready
  local uid; uid=$(pod_uid "$1")
  [[ -n $uid && $uid != "$2" ]] &&
    [[ $(kube get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}
pods_gone() {  # NAME...: none of these pods exists any more
  local pod
  for pod in "$@"; do kube get pod "$pod" >/dev/null 2>&1 && return 1; done
  return 0
}
# slave_serves I PATH: straight to pod slave-I's slave, with its own probe client (a GET, 2xx)
slave_serves() { quietly kube exec "slave-$1" -c slave -- slave --probe "$2"; }
pod_is_ready() { [[ $(kube get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]; }
# pod_redis POD COMMAND...: redis-cli in the pod's redis container to its own Redis, as the slaves'
# user; the password stays in the container's environment (REDISCLI_AUTH), never on a command line.
pod_redis() {
  local pod=$1; shift
  # shellcheck disable=SC2016  # expanded by the container's shell, where the password is
  kube exec "$pod" -c redis -- sh -c 'REDISCLI_AUTH=$REDIS_DATA_PASSWORD exec redis-cli --no-auth-warning --user cdb-data "$@"' \
    redis-cli "$@" 2>&1
}
# caught_up_when_ready POD OLD_UID KEY VALUE: polls the replacement of POD until it is Ready. Its
# readiness is read first and its Redis after, so a Redis seen behind after a Ready is a Ready given
# too early (a follower's link, once up, stays up). When Ready: the link is up and KEY reads VALUE.
caught_up_when_ready() {
  local pod=$1 old_uid=$2 key=$3 value=$4 deadline=$(( $(date +%s) + wait_s )) uid info not_ready=0
  while (( $(date +%s) < deadline )); do
    uid=$(pod_uid "$pod")
    if [[ -n $uid && $uid != "$old_uid" ]]; then
      if pod_is_ready "$pod"; then
        info=$(pod_redis "$pod" INFO replication)
        echo "        $pod Ready after $not_ready polls not Ready; its Redis: $(grep -E '^(role|master_link_status|master_sync_in_progress)' <<<"$info" | tr -d '\r' | tr '\n' ' ')"
        [[ $info == *master_link_status:up* ]] || { echo "        Ready with the replication link not up"; return 1; }
        [[ $(pod_redis "$pod" GET "$key") == "$value" ]] || { echo "        Ready without $key"; return 1; }
        return 0
      fi
      not_ready=$(( not_ready + 1 ))
    fi
    sleep 0.2
  done
  echo "        $pod not Ready within $wait_s s"
  return 1
}
# pod_generations: NAME=UID:RESTARTS... of every pod, sorted; a restarted or replaced container changes its line
pod_generations() {
  kube get pods -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.uid}:{.status.containerStatuses[*].restartCount}{"\n"}{end}' | sort
}
# none_restarted BEFORE: every pod of BEFORE (pod_generations) is still there, neither replaced nor restarted
none_restarted() {
  local now line; now=$(pod_generations)
  while IFS= read -r line; do
    [[ -z $line || $'\n'$now$'\n' == *$'\n'"$line"$'\n'* ]] || { echo "        changed: $line -> $(grep "^${line%%=*}=" <<<"$now")"; return 1; }
  done <<<"$1"
}
load_images() {
  case $load in
    kind) kind load docker-image "${images[@]}" --name "${context#kind-}" ;;
    k8s-local) "$repo/scripts/k8s-local.sh" load-images "${images[@]}" ;;
    none) return 0 ;;
    *) echo "        unknown K8S_E2E_LOAD=$load"; return 1 ;;
  esac
}

started=$(date +%s)
context=$(kubectl config current-context 2>/dev/null) || { fail "no current context in KUBECONFIG (${KUBECONFIG:-~/.kube/config})"; exit 1; }
case $context in kind-*) default_load=kind ;; k8s-local) default_load=k8s-local ;; *) default_load=none ;; esac
load=${K8S_E2E_LOAD:-$default_load}
echo "== Kubernetes end-to-end test on context $context (server $(kubectl version -o json 2>/dev/null |
  sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -n 1)), images: $load"
check "the API server answers" quietly kubectl_any --request-timeout=30s get --raw /readyz
if kubectl_any get namespace "$namespace" >/dev/null 2>&1; then
  cleanup_done=true  # not ours: leave it
  fail "namespace $namespace exists already (make kind-down, or kubectl delete namespace $namespace)"; exit 1
fi

section "images and manifests for 3 clusters"
ensure_secrets >/dev/null
admin_token=$(sed -n 's/^ADMIN_TOKEN=//p' "$secrets_file")
[[ -z $admin_token ]] || (umask 077 && printf 'Authorization: Bearer %s\n' "$admin_token" >"$auth_header_file")
unset admin_token
check "docker/build-images.sh" quietly "$repo/docker/build-images.sh"
check "images loaded into the node's runtime ($load)" load_images
check "namespace and Secret" apply_secret
check "kubectl apply of generator --target kind --replicas 3" deploy 3
rolled=$(date +%s)
check "rollout of slave-0..2 and lb" rollout
echo "        rollout took $(( $(date +%s) - rolled )) s"
check "3 pods slave-0..2" [ "$(kube get pods -l app.kubernetes.io/component=slave -o name | sort | tr '\n' ' ')" == \
  "pod/slave-0 pod/slave-1 pod/slave-2 " ]
port=$(free_port) || { fail "no free port in 28080..28179"; exit 1; }
check "kubectl port-forward svc/$lb_service $port:$lb_service_port" start_port_forward "$port"
check "3 clusters ready with a leader" wait_ready 3 "$wait_s"

section "data API through the port-forward"
check_data_api

section "delete the leader's pod"
old_term=$(status_field term); old_leader=$(status_field leader)
old_uid=$(pod_uid "slave-$old_leader")
check "kubectl delete pod slave-$old_leader (term $old_term)" quietly kube delete pod "slave-$old_leader" --wait=false
new_leader_elected() {
  local status; status=$(lb_status)
  [[ $(status_field term "$status") -gt $old_term && -n $(status_field leader "$status") &&
     $(status_field leader "$status") != "$old_leader" ]]
}
elected_at=$(date +%s)
check "a new leader with a higher term" until_true "$wait_s" new_leader_elected
new_term=$(status_field term); new_leader=$(status_field leader)
echo "        leader change: slave-$old_leader (term $old_term) -> slave-$new_leader (term $new_term) in about $(( $(date +%s) - elected_at )) s"
check "writes resume" until_true 30 set_key resumed yes
check "50 more requests succeed" traffic 50 after-failover
check "no acknowledged key is lost (${#acked[@]} keys)" no_key_lost
check "slave-$old_leader comes back (a new pod, Ready)" until_true "$wait_s" pod_ready_again "slave-$old_leader" "$old_uid"
check "slave-$old_leader rejoins as a follower of slave-$new_leader" until_true "$wait_s" rejoined_as_follower "$old_leader"
check "3 clusters ready" until_true "$wait_s" ready_is 3
check "no acknowledged key is lost (${#acked[@]} keys)" no_key_lost

section "delete a follower's pod: Ready only once its Redis has caught up"
follower=$(( (new_leader + 1) % 3 ))
follower_uid=$(pod_uid "slave-$follower")
check "kubectl delete pod slave-$follower (a follower of slave-$new_leader)" quietly kube delete pod "slave-$follower" --wait=false
check "the new slave-$follower is Ready only with its Redis replicating and holding the data" \
  caught_up_when_ready "slave-$follower" "$follower_uid" resumed "${acked[resumed]}"
check "slave-$follower rejoins as a follower" until_true "$wait_s" rejoined_as_follower "$follower"
check "3 clusters ready" until_true "$wait_s" ready_is 3

section "re-apply the manifests for 5 clusters: no pod restarts"
generations=$(pod_generations)
echo "        pods before: $(tr '\n' ' ' <<<"$generations")"
check "kubectl apply of generator --target kind --replicas 5" quietly deploy 5
check "rollout of slave-3 and slave-4" rollout
check "no pod of slave-0..2 or of the LB was restarted or replaced" none_restarted "$generations"
check "PUT /lb/size 5" put_size 5
check "5 clusters ready" wait_ready 5 "$wait_s"
for index in 3 4; do
  check "slave-$index serves a read" slave_serves "$index" /get/resumed
done
check "100 requests succeed across 5 clusters" traffic 100 after-scale-up
check "no acknowledged key is lost (${#acked[@]} keys)" no_key_lost

section "drain to 3, then scale down"
check "PUT /lb/size 3" put_size 3
check "clusters 3 and 4 drained" drained_are 3 5
check "kubectl scale statefulset $slave_statefulset --replicas=3" quietly kube scale statefulset "$slave_statefulset" --replicas=3
check "slave-3 and slave-4 are gone" until_true "$wait_s" pods_gone slave-3 slave-4
check "3 clusters ready" until_true "$wait_s" ready_is 3
check "50 more requests succeed" traffic 50 after-scale-down
check "no acknowledged key is lost (${#acked[@]} keys)" no_key_lost
echo "        pods: $(kube get pods -o name | tr '\n' ' ')"
echo "        leader: slave-$(status_field leader), term $(status_field term), elections $(status_field elections)"

section "planned restarts under load"
# 64 clients through the port-forward while pods are replaced; then every key is read back and the
# history checked (load_check, docs/CHAOS.md). A stopping slave hands its cluster's leadership over
# first, and a new pod is Ready only once caught up (docs/DEPLOY.md, "Stopping a cluster").
load_check=${LOAD_CHECK:-$repo/build/tests/chaos/load_check}
failed_under_load=""
under_load() {  # command...: runs it (it waits until its work is done) under load_check's clients
  local stop=$work/under-load-done log=$work/load-check.log load_pid status=0
  [[ -x $load_check ]] || { echo "        $load_check is missing: make build first"; return 1; }
  rm -f "$stop"
  "$load_check" --lb "${LB_URL#http://}" --clients 64 --keys 100 --clusters 3 --until-file "$stop" \
    --max-seconds 400 >"$log" 2>&1 &
  load_pid=$!
  sleep 3  # load flowing before the first pod goes
  "$@" || status=1
  sleep 2  # and after the last one is back
  touch "$stop"
  wait "$load_pid" || status=1
  sed -n 's/^load_check: /        /p; /acknowledged writes lost\|not linearizable\|^result/s/^/        /p' "$log"
  failed_under_load=$(sed -n 's/^load_check: [0-9]* requests, \([0-9]*\) failed.*/\1/p' "$log")
  (( status == 0 )) || cat "$log"
  return "$status"
}
rolling_restart() {
  kube rollout restart statefulset "$slave_statefulset" >/dev/null &&
    kube rollout status statefulset "$slave_statefulset" --timeout=300s >/dev/null
}
delete_leader_pod() {  # with the default grace: its slave hands over, then the pod comes back
  local leader uid
  leader=$(status_field leader); uid=$(pod_uid "slave-$leader")
  kube delete pod "slave-$leader" >/dev/null && until_true "$wait_s" pod_ready_again "slave-$leader" "$uid"
}
check "kubectl rollout restart statefulset/$slave_statefulset under 64 clients: nothing lost, linearizable" \
  under_load rolling_restart
echo "        failed requests during the rolling restart: ${failed_under_load:-?}"
check "3 clusters ready" until_true "$wait_s" ready_is 3
check "kubectl delete pod <the leader's> under 64 clients: nothing lost, linearizable" under_load delete_leader_pod
echo "        failed requests while the leader's pod was replaced: ${failed_under_load:-?}"
check "3 clusters ready" until_true "$wait_s" ready_is 3
check "no acknowledged key is lost (${#acked[@]} keys)" no_key_lost

section "remove everything"
cleanup
check "namespace $namespace is gone" until_true 60 eval '! kubectl_any get namespace "$namespace" >/dev/null 2>&1'
check "no port-forward remains" [ ! -e "$run_dir/port-forward.pid" ]
echo "== Kubernetes end-to-end test took $(( $(date +%s) - started )) s"
