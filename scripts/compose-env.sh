#!/usr/bin/env bash
# Docker Compose mode of ./launch-env (and of make launch/status/down): N clusters and the load
# balancer as one Compose project. Called as: compose-env.sh ACTION [LB_PORT], ACTION one of N,
# status, down. The project is "consult-db" unless COMPOSE_PROJECT_NAME says otherwise; its generated
# Compose file and state live in .run/compose (.run/compose-<project> for another project).
# Works with `docker compose` (v2) and `docker-compose` (v1): containers are found by their Compose
# labels, never by name, because the two versions name them differently.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
action=$1
lb_port=${2:-}
project=${COMPOSE_PROJECT_NAME:-consult-db}
run_dir=$repo/.run/compose
[[ $project == consult-db ]] || run_dir+=-$project
compose_file=$run_dir/docker-compose.yml
ready_timeout_s=${READY_TIMEOUT_S:-120}
max_clusters=256
compose_cmd=()

die() { echo "launch-env: $*" >&2; exit 1; }
# shellcheck source=scripts/lb-client.sh
source "$repo/scripts/lb-client.sh"
# shellcheck source=scripts/redis-secrets.sh
source "$repo/scripts/redis-secrets.sh"

# v2 when its plugin answers, else v1. CONSULT_DB_COMPOSE=v1 or v2 insists on one (CI tests both).
find_compose() {
  case ${CONSULT_DB_COMPOSE:-} in
    v1) command -v docker-compose >/dev/null || die "CONSULT_DB_COMPOSE=v1, but 'docker-compose' is not installed"
        compose_cmd=(docker-compose); return ;;
    v2) docker compose version >/dev/null 2>&1 || die "CONSULT_DB_COMPOSE=v2, but 'docker compose' does not answer (scripts/install-compose-v2.sh)"
        compose_cmd=(docker compose); return ;;
    "") ;;
    *) die "CONSULT_DB_COMPOSE is '$CONSULT_DB_COMPOSE'; v1, v2 or unset" ;;
  esac
  if docker compose version >/dev/null 2>&1; then compose_cmd=(docker compose)
  elif command -v docker-compose >/dev/null; then compose_cmd=(docker-compose)
  else die "neither 'docker compose' (v2) nor 'docker-compose' (v1) is installed"
  fi
}
compose() { "${compose_cmd[@]}" --project-name "$project" --file "$compose_file" "$@"; }
# Compose's own output goes to a log, shown when a command fails: the terminal gets the progress line.
compose_quiet() {
  compose "$@" >>"$run_dir/compose.log" 2>&1 ||
    { tail -n 20 "$run_dir/compose.log" >&2; die "'${compose_cmd[*]} $*' failed (log: $run_dir/compose.log)"; }
}
project_filter() { echo "label=com.docker.compose.project=$project"; }
running_containers() { docker ps -q --filter "$(project_filter)"; }

generate() {  # size port [env file]
  # The wrapper builds the generator first when it is stale: that output only matters on failure.
  # The Compose file names the secrets file (env_file); it never holds a password.
  "$repo/generator/generate" --target compose --replicas "$1" --set "lb.publish.port=$2" \
    --set "compose.envFile=${3:-$secrets_file}" --output "$compose_file" >"$run_dir/generator.log" 2>&1 ||
    { cat "$run_dir/generator.log" >&2; die "the generator failed"; }
  echo "$1" >"$run_dir/size"
  echo "$2" >"$run_dir/lb_port"
}

# The host address the generated Compose file publishes the LB on (lb.publish.address), from the
# generator that writes it rather than a copy of its default.
lb_address() { "$repo/generator/generate" --target compose --facts | sed -n 's/^LB_ADDRESS=//p'; }

fail_with_logs() {
  echo "Last log lines of every container:" >&2
  compose logs --no-color --tail 30 >&2 || true
  die "$1"
}

prepare() {
  "$repo/scripts/ensure-docker.sh"
  find_compose
  # The generator runs on this machine; without a built one its build dependencies are needed.
  [[ -x ${BUILD_DIR:-$repo/build}/generator/generator ]] || "$repo/scripts/deps.sh"
  "$repo/docker/build-images.sh"
  ensure_secrets
  mkdir -p "$run_dir"
}

compose_up() {
  local size=$1 port=${lb_port:-8080}
  (( size >= 1 && size <= max_clusters )) || die "N must be between 1 and $max_clusters"
  prepare
  if [[ -n $(running_containers) ]]; then
    compose_rescale "$size"
    return
  fi
  port_busy "$port" && die "port $port is in use; choose another with --port P"
  generate "$size" "$port"
  LB_URL=http://$(lb_address):$port
  echo "Starting $size clusters and the load balancer (Docker Compose project $project)..."
  compose_quiet up -d --remove-orphans
  wait_ready "$size" "$ready_timeout_s" || fail_with_logs "not ready after ${ready_timeout_s}s"
  print_next_steps
}

# In place: running containers are never recreated (--no-recreate), even though CLUSTER_SIZE in their
# environment is now out of date, because recreating a cluster empties its Redis. Nothing reads that
# value after start-up except as the LB's first desired size, which PUT /lb/size replaces and which
# a restarted LB corrects by itself (every name that resolves joins).
compose_rescale() {
  local size=$1 old port
  old=$(cat "$run_dir/size" 2>/dev/null) || die "a $project project runs, but $run_dir/size is missing; run ./launch-env down first"
  port=$(cat "$run_dir/lb_port")
  LB_URL=http://$(lb_address):$port
  if [[ -n $lb_port && $lb_port != "$port" ]]; then
    die "the system runs on port $port; stop it (./launch-env down) to move it to $lb_port"
  fi
  if (( size == old )); then echo "$size clusters run already; starting any that stopped..."
  else echo "Rescaling from $old to $size clusters..."
  fi
  if (( size >= old )); then
    generate "$size" "$port"
    compose_quiet up -d --no-recreate  # also starts clusters that were stopped
    set_lb_size "$size" 30 || fail_with_logs "the load balancer at $LB_URL does not accept PUT /lb/size"
  else
    compose_quiet up -d --no-recreate lb  # in case it was stopped: it moves the leader
    set_lb_size "$size" 30 || fail_with_logs "the load balancer at $LB_URL does not accept PUT /lb/size"
    echo "  moving the leader off clusters $size..$(( old - 1 ))"
    wait_drained "$size" "$old" "$ready_timeout_s" ||
      fail_with_logs "clusters $size..$(( old - 1 )) not drained after ${ready_timeout_s}s"
    generate "$size" "$port"
    compose_quiet up -d --no-recreate --remove-orphans  # removes the clusters no longer in the file
  fi
  wait_ready "$size" "$ready_timeout_s" || fail_with_logs "not ready after ${ready_timeout_s}s"
  print_next_steps
}

print_next_steps() {
  local env_prefix=""
  [[ $project == consult-db ]] || env_prefix="COMPOSE_PROJECT_NAME=$project "
  print_ready "Topology: ${env_prefix}./launch-env status    Rescale: ${env_prefix}./launch-env M    Stop: ${env_prefix}./launch-env down"
}

compose_status() {
  [[ -f $run_dir/lb_port ]] || die "nothing is running (no $run_dir)"
  find_compose
  compose ps
  LB_URL=http://$(lb_address):$(cat "$run_dir/lb_port")
  print_status || die "the load balancer at $LB_URL does not answer"
}

compose_down() {
  if ! timeout 10 docker info >/dev/null 2>&1; then
    rm -rf "$run_dir"
    echo "Nothing to stop (no Docker engine answers)."
    return
  fi
  find_compose
  mkdir -p "$run_dir"
  # `down` needs a Compose file; any size does, since --remove-orphans takes every other cluster.
  # Compose reads every env_file, even to remove: without the secrets file (removed to rotate the
  # passwords), an empty one does (a regular file: docker-compose 1.29 refuses /dev/null).
  if [[ ! -f $secrets_file ]]; then
    : >"$run_dir/no-secrets.env"
    generate 1 8080 "$run_dir/no-secrets.env"
  elif [[ ! -f $compose_file ]]; then
    generate 1 8080
  fi
  compose_quiet down --volumes --remove-orphans --timeout 5
  # Whatever Compose did not remove (a container started by hand into the project, a network that a
  # v1 `down` left while a container still used it): nothing of the project may remain.
  local leftovers
  leftovers=$(docker ps -aq --filter "$(project_filter)")
  [[ -z $leftovers ]] || xargs docker rm -f >/dev/null <<<"$leftovers"
  leftovers=$(docker network ls -q --filter "$(project_filter)")
  [[ -z $leftovers ]] || xargs docker network rm >/dev/null <<<"$leftovers"
  leftovers=$(docker volume ls -q --filter "$(project_filter)")
  [[ -z $leftovers ]] || xargs docker volume rm >/dev/null <<<"$leftovers"
  rm -rf "$run_dir"
  echo "Stopped."
}

case "$action" in
  down) compose_down ;;
  status) compose_status ;;
  *) compose_up "$action" ;;
esac
