#!/usr/bin/env bash
# Local mode of ./launch-env: every part as a process on 127.0.0.1 (no Docker): N redis-server,
# N slave and one lb, with PIDs and logs under .run/local. Called as: local-env.sh ACTION [LB_PORT]
# with ACTION one of N, status, down. LOCAL_RUN_DIR=DIR keeps the state elsewhere, so a second
# system (make bench's) runs beside the user's.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
run_dir="${LOCAL_RUN_DIR:-$repo/.run/local}"
build_dir="${BUILD_DIR:-$repo/build}"
max_clusters=256
ready_timeout_s=${READY_TIMEOUT_S:-60}
action=$1
lb_port=${2:-}

die() { echo "launch-env: $*" >&2; exit 1; }
# shellcheck source=scripts/lb-client.sh
source "$repo/scripts/lb-client.sh"
# shellcheck source=scripts/redis-secrets.sh
source "$repo/scripts/redis-secrets.sh"

# A process that exited but is not reaped yet (its parent, this script, is gone) is a zombie: dead.
process_alive() { [[ -r /proc/$1/stat ]] && [[ $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) != Z ]]; }
pid_alive() { [[ -f $1 ]] && process_alive "$(cat "$1")"; }
use_lb_port() { LB_URL="http://127.0.0.1:$(cat "$run_dir/lb_port")"; }

stop_pid_file() {  # SIGTERM, then SIGKILL after $2 s (3 by default); only processes this script started
  local file=$1 pid
  [[ -f $file ]] || return 0
  pid=$(cat "$file")
  if process_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $(( ${2:-3} * 10 ))); do process_alive "$pid" || break; sleep 0.1; done
    process_alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$file"
}

free_block() {  # first port of $1 consecutive free ports, from $2 up
  local count=$1 base=$2 port
  while (( base + count < 65000 )); do
    for (( port = base; port < base + count; port++ )); do port_busy "$port" && break; done
    (( port == base + count )) && { echo "$base"; return; }
    base=$(( port + 1 ))
  done
  die "no $count free ports found"
}

ensure_binaries() {
  [[ -x $build_dir/services/slave/slave && -x $build_dir/services/lb/lb ]] && return
  echo "Building (first run)..."
  make -C "$repo" build >/dev/null
}

common_env() {
  export CLUSTER_HOST_TEMPLATE=127.0.0.1 CLUSTER_PORT_STEP=1 LB_BIND=127.0.0.1 SLAVE_BIND=127.0.0.1 \
    HANDOVER_LB_HOST=127.0.0.1
  SLAVE_PORT=$(cat "$run_dir/slave_base"); REDIS_PORT=$(cat "$run_dir/redis_base"); LB_PORT=$(cat "$run_dir/lb_port")
  export SLAVE_PORT REDIS_PORT LB_PORT
}

start_cluster() {  # index
  local i=$1 redis_port=$(( $(cat "$run_dir/redis_base") + $1 ))
  pid_alive "$run_dir/redis-$i.pid" || {
    # Its own directory, emptied: a replica saves the RDB it receives, and a Redis that restarts
    # must not serve that stale copy (the LB resyncs it from the leader).
    rm -rf "$run_dir/redis-$i" && mkdir -p "$run_dir/redis-$i"
    # A replica of nowhere until the LB promotes or repoints it: an empty Redis must never be the
    # master its peers resync from (docs/ELECTION.md). redis-run adds the ACL users.
    ( export_secrets "${redis_secret_names[@]}"
      exec "$repo/docker/redis-run" --port "$redis_port" --bind 127.0.0.1 --dir "$run_dir/redis-$i" --save '' \
        --appendonly no --repl-diskless-sync-delay 0 --replicaof 127.0.0.1 1 --daemonize no ) \
      >"$run_dir/redis-$i.log" 2>&1 &
    echo $! >"$run_dir/redis-$i.pid"
  }
  pid_alive "$run_dir/slave-$i.pid" || {
    ( common_env; export_secrets REDIS_DATA_PASSWORD CONTROL_PLANE_KEY; CLUSTER_SIZE=$(cat "$run_dir/size") CLUSTER_INDEX=$i \
        exec "$build_dir/services/slave/slave" ) >"$run_dir/slave-$i.log" 2>&1 &
    echo $! >"$run_dir/slave-$i.pid"
  }
}

# The slave first, and its Redis once it has exited: a stopping slave asks the LB to move the
# leadership off its cluster, which needs its Redis (docs/PROTOCOL.md §10). 6 s: the hand-over's
# bound (handover.timeout_ms, 4 s), the drain's (1 s) and room.
stop_cluster() { stop_pid_file "$run_dir/slave-$1.pid" 6; stop_pid_file "$run_dir/redis-$1.pid"; }

start_lb() {
  pid_alive "$run_dir/lb.pid" && return
  ( common_env; export_secrets REDIS_COORDINATOR_PASSWORD CONTROL_PLANE_KEY ADMIN_TOKEN
    CLUSTER_SIZE=$(cat "$run_dir/size") exec "$build_dir/services/lb/lb" ) >"$run_dir/lb.log" 2>&1 &
  echo $! >"$run_dir/lb.pid"
}

ready_or_die() { wait_ready "$1" "$ready_timeout_s" || die "not ready after ${ready_timeout_s}s; logs in $run_dir"; }

local_up() {
  local size=$1
  (( size >= 1 && size <= max_clusters )) || die "N must be between 1 and $max_clusters"
  ensure_binaries
  command -v redis-server >/dev/null || die "redis-server is missing: run 'make deps' (as root) first"
  ensure_secrets
  mkdir -p "$run_dir"
  if pid_alive "$run_dir/lb.pid"; then
    local_rescale "$size"
    return
  fi
  [[ -f $run_dir/slave_base ]] || {
    free_block $(( 2 * max_clusters )) 21000 >"$run_dir/slave_base"
    echo $(( $(cat "$run_dir/slave_base") + max_clusters )) >"$run_dir/redis_base"
  }
  local port=${lb_port:-8080}
  port_busy "$port" && die "port $port is in use; choose another with --port P"
  echo "$port" >"$run_dir/lb_port"
  use_lb_port
  echo "$size" >"$run_dir/size"
  echo "Starting $size clusters and the load balancer on 127.0.0.1..."
  for (( i = 0; i < size; i++ )); do start_cluster "$i"; done
  start_lb
  ready_or_die "$size"
  print_ready "Topology: ./launch-env status --local    Stop: ./launch-env down --local"
}

local_rescale() {
  local size=$1 old
  old=$(cat "$run_dir/size")
  if (( size == old )); then echo "$size clusters run already; starting any part that stopped..."
  else echo "Rescaling from $old to $size clusters..."
  fi
  # Like the Compose mode: whatever of the staying clusters was killed comes back (empty, then
  # resynced by the LB from the leader).
  for (( i = 0; i < size && i < old; i++ )); do start_cluster "$i"; done
  if (( size > old )); then
    echo "$size" >"$run_dir/size"
    for (( i = old; i < size; i++ )); do start_cluster "$i"; done
    set_lb_size "$size" "$ready_timeout_s" || die "the load balancer does not answer"
  elif (( size < old )); then
    set_lb_size "$size" "$ready_timeout_s" || die "the load balancer does not answer"
    # The leader is never removed before it has moved off the clusters that leave.
    wait_drained "$size" "$old" "$ready_timeout_s" || die "clusters $size..$(( old - 1 )) were not drained in time"
    for (( i = size; i < old; i++ )); do stop_cluster "$i"; done
    echo "$size" >"$run_dir/size"
  fi
  ready_or_die "$size"
}

local_status() {
  print_status || die "the load balancer at $LB_URL does not answer"
}

local_down() {
  [[ -d $run_dir ]] || { echo "Nothing to stop."; return; }
  stop_pid_file "$run_dir/lb.pid"
  for file in "$run_dir"/slave-*.pid "$run_dir"/redis-*.pid; do [[ -e $file ]] && stop_pid_file "$file"; done
  rm -rf "$run_dir"
  echo "Stopped."
}

if [[ -f $run_dir/lb_port ]]; then
  use_lb_port
elif [[ $action == status ]]; then
  die "nothing is running (no $run_dir)"
fi

case "$action" in
  down) local_down ;;
  status) local_status ;;
  *) local_up "$action" ;;
esac
