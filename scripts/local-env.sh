#!/usr/bin/env bash
# Local mode of ./launch-env: every part as a process on 127.0.0.1 (no Docker): N redis-server,
# N slave and one lb, with PIDs and logs under .run/local. Called as: local-env.sh ACTION [LB_PORT]
# with ACTION one of N, status, down.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
run_dir="$repo/.run/local"
build_dir="${BUILD_DIR:-$repo/build}"
max_clusters=256
ready_timeout_s=${READY_TIMEOUT_S:-60}
action=$1
lb_port=${2:-}

die() { echo "launch-env: $*" >&2; exit 1; }

# A process that exited but is not reaped yet (its parent, this script, is gone) is a zombie: dead.
process_alive() { [[ -r /proc/$1/stat ]] && [[ $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) != Z ]]; }
pid_alive() { [[ -f $1 ]] && process_alive "$(cat "$1")"; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
lb_url() { echo "http://127.0.0.1:$(cat "$run_dir/lb_port")"; }
lb_status() { curl -sf --max-time 2 "$(lb_url)/lb/status" || true; }

stop_pid_file() {  # SIGTERM, then SIGKILL after 3 s; only processes this script started
  local file=$1 pid
  [[ -f $file ]] || return 0
  pid=$(cat "$file")
  if process_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 30); do process_alive "$pid" || break; sleep 0.1; done
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
  export CLUSTER_HOST_TEMPLATE=127.0.0.1 CLUSTER_PORT_STEP=1
  export SLAVE_PORT=$(cat "$run_dir/slave_base") REDIS_PORT=$(cat "$run_dir/redis_base")
  export LB_PORT=$(cat "$run_dir/lb_port") LB_BIND=127.0.0.1 SLAVE_BIND=127.0.0.1
}

start_cluster() {  # index
  local i=$1 redis_port=$(( $(cat "$run_dir/redis_base") + $1 ))
  pid_alive "$run_dir/redis-$i.pid" || {
    # Its own directory, emptied: a replica saves the RDB it receives, and a Redis that restarts
    # must not serve that stale copy (the LB resyncs it from the leader).
    rm -rf "$run_dir/redis-$i" && mkdir -p "$run_dir/redis-$i"
    # A replica of nowhere until the LB promotes or repoints it: an empty Redis must never be the
    # master its peers resync from (docs/ELECTION.md).
    redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$run_dir/redis-$i" --save '' --appendonly no \
      --repl-diskless-sync-delay 0 --replicaof 127.0.0.1 1 --daemonize no >"$run_dir/redis-$i.log" 2>&1 &
    echo $! >"$run_dir/redis-$i.pid"
  }
  pid_alive "$run_dir/slave-$i.pid" || {
    ( common_env; CLUSTER_SIZE=$(cat "$run_dir/size") CLUSTER_INDEX=$i \
        exec "$build_dir/services/slave/slave" ) >"$run_dir/slave-$i.log" 2>&1 &
    echo $! >"$run_dir/slave-$i.pid"
  }
}

stop_cluster() { stop_pid_file "$run_dir/slave-$1.pid"; stop_pid_file "$run_dir/redis-$1.pid"; }

start_lb() {
  pid_alive "$run_dir/lb.pid" && return
  ( common_env; CLUSTER_SIZE=$(cat "$run_dir/size") exec "$build_dir/services/lb/lb" ) >"$run_dir/lb.log" 2>&1 &
  echo $! >"$run_dir/lb.pid"
}

ready_count() { lb_status | sed -n 's/.*"ready":\[\([0-9,]*\)\].*/\1/p' | tr ',' '\n' | grep -c . || true; }
current_term() { lb_status | sed -n 's/^{"term":\([0-9]*\).*/\1/p'; }

wait_ready() {  # until the LB reports $1 ready clusters and a leader
  local want=$1 deadline=$(( $(date +%s) + ready_timeout_s )) ready term
  while true; do
    ready=$(ready_count); term=$(current_term)
    printf '\r  %s/%s clusters ready, leader term %s   ' "${ready:-0}" "$want" "${term:-none}"
    if [[ ${ready:-0} -eq $want && ${term:-0} -gt 0 ]]; then echo; return 0; fi
    if (( $(date +%s) >= deadline )); then
      echo; die "not ready after ${ready_timeout_s}s; logs in $run_dir"
    fi
    sleep 0.2
  done
}

wait_drained() {  # until every index in [$1, $2) is reported drained (the leader moved off them)
  local from=$1 to=$2 deadline=$(( $(date +%s) + ready_timeout_s )) i drained
  while true; do
    drained=$(lb_status | sed -n 's/.*"drained":\[\([0-9,]*\)\].*/,\1,/p')
    for (( i = from; i < to; i++ )); do [[ $drained == *",$i,"* ]] || break; done
    (( i == to )) && return 0
    (( $(date +%s) >= deadline )) && die "clusters $from..$(( to - 1 )) not drained after ${ready_timeout_s}s"
    sleep 0.2
  done
}

local_up() {
  local size=$1
  (( size >= 1 && size <= max_clusters )) || die "N must be between 1 and $max_clusters"
  ensure_binaries
  command -v redis-server >/dev/null || die "redis-server is missing: run 'make deps' (as root) first"
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
  echo "$size" >"$run_dir/size"
  echo "Starting $size clusters and the load balancer on 127.0.0.1..."
  for (( i = 0; i < size; i++ )); do start_cluster "$i"; done
  start_lb
  wait_ready "$size"
  print_next_steps
}

local_rescale() {
  local size=$1 old
  old=$(cat "$run_dir/size")
  echo "Rescaling from $old to $size clusters..."
  if (( size > old )); then
    echo "$size" >"$run_dir/size"
    for (( i = old; i < size; i++ )); do start_cluster "$i"; done
    curl -sf -X PUT "$(lb_url)/lb/size" -d "{\"size\":$size}" >/dev/null
  elif (( size < old )); then
    curl -sf -X PUT "$(lb_url)/lb/size" -d "{\"size\":$size}" >/dev/null
    wait_drained "$size" "$old"  # the leader is never removed before it has moved
    for (( i = size; i < old; i++ )); do stop_cluster "$i"; done
    echo "$size" >"$run_dir/size"
  fi
  wait_ready "$size"
}

print_next_steps() {
  local url; url=$(lb_url)
  cat <<EOT
Ready: $url
  curl -s -X POST $url/set -H 'Content-Type: application/json' -d '{"key":"hello","value":"world"}'
  curl -s $url/get/hello
  curl -s '$url/list-keys?pattern=*'
Topology: ./launch-env status --local    Stop: ./launch-env down --local
EOT
}

local_status() {
  [[ -f $run_dir/lb_port ]] || die "nothing is running (no $run_dir)"
  local status; status=$(lb_status)
  [[ -n $status ]] || die "the load balancer at $(lb_url) does not answer"
  if command -v python3 >/dev/null; then python3 -m json.tool <<<"$status"; else echo "$status"; fi
}

local_down() {
  [[ -d $run_dir ]] || { echo "Nothing to stop."; return; }
  stop_pid_file "$run_dir/lb.pid"
  for file in "$run_dir"/slave-*.pid "$run_dir"/redis-*.pid; do [[ -e $file ]] && stop_pid_file "$file"; done
  rm -rf "$run_dir"
  echo "Stopped."
}

case "$action" in
  down) local_down ;;
  status) local_status ;;
  *) local_up "$action" ;;
esac
