#!/usr/bin/env bash
# make bench: the figures of docs/BENCHMARKS.md, on the local mode (every load on 127.0.0.1, bounded
# in time). Each comparison runs its two sides in this run, interleaved, and reports medians and the
# ratio. Progress goes to stderr; the raw figures and a markdown table to stdout, and both to
# $BENCH_OUT/results.md. Settings (environment):
#   SECTIONS="get set frozen gray failover launch footprint"   which figures
#   DURATION=10      seconds of each wrk run         PAIRS=3    rounds of each comparison
#   KILLS=20         failovers of each side          KILL_BATCH=5  kills per batch (sides alternate)
#   BENCH_COMPOSE=1  launch time and image sizes (Docker); 0 skips them
#   LAUNCH_SIZES="1 5 20"   DOCKER_LOCK_WAIT_S=900   BENCH_KEYS=1000   BENCH_OUT=.run/bench/<time>
#   FROZEN_CLIENTS="32 64"  FROZEN_S=8 (how long one slave stays stopped in the frozen section)
#   GRAY_CLIENTS=32  GRAY_STOP_S=8  GRAY_THROTTLE_S=20   the gray-failure matrix (each process stopped,
#                    then held to 5 % of a core)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
sections=${SECTIONS:-get set frozen gray failover launch footprint}
frozen_clients=${FROZEN_CLIENTS:-32 64}
frozen_s=${FROZEN_S:-8}
gray_clients=${GRAY_CLIENTS:-32}
gray_stop_s=${GRAY_STOP_S:-8}
gray_throttle_s=${GRAY_THROTTLE_S:-20}
duration=${DURATION:-10}; duration=${duration%s}
pairs=${PAIRS:-3}
kills=${KILLS:-20}
kill_batch=${KILL_BATCH:-5}
bench_compose=${BENCH_COMPOSE:-1}
launch_sizes=${LAUNCH_SIZES:-1 5 20}
keys=${BENCH_KEYS:-1000}
clusters=3
out_dir=${BENCH_OUT:-$repo/.run/bench/$(date +%Y%m%d-%H%M%S)}
docker_lock=/tmp/consult-db-docker.lock
lock_wait_s=${DOCKER_LOCK_WAIT_S:-900}

say() { printf 'bench [%4ss]: %s\n' "$SECONDS" "$*" >&2; }
die() { say "$*"; exit 1; }
# shellcheck source=scripts/lb-client.sh
source "$repo/scripts/lb-client.sh"

# One figure per line in $out_dir/raw.txt: SECTION SIDE RUN NAME VALUE.
record() { echo "$*" >>"$out_dir/raw.txt"; }
# Values of figure NAME of SECTION SIDE, one a line, in run order.
values() { awk -v s="$1" -v d="$2" -v n="$3" '$1 == s && $2 == d && $4 == n { print $5 }' "$out_dir/raw.txt"; }

# Numbers on stdin -> "min median p90 max count", interpolated between the closest ranks like
# bench/summary.cpp; "- - - - 0" when there is none.
quantiles() {
  sort -g | awk '
    function q(p,   r, b) { r = p * (NR - 1); b = int(r); return v[b + 1] + (v[(b + 2 <= NR ? b + 2 : NR)] - v[b + 1]) * (r - b) }
    { v[NR] = $1 }
    END { if (NR == 0) { print "- - - - 0"; exit } printf "%.6g %.6g %.6g %.6g %d\n", q(0), q(0.5), q(0.9), q(1), NR }'
}
median() { quantiles | cut -d' ' -f2; }
# ratio A B [DIGITS]: A/B, or "-" when either is missing.
ratio() {
  awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (a == "-" || b == "-" || a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.*f\n", d, a / b }'
}
fmt() { awk -v v="$1" -v d="${2:-0}" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%.*f\n", d, v }'; }

# A free loopback port from $1 up.
free_port() { local port=$1; while port_busy "$port"; do port=$(( port + 1 )); done; echo "$port"; }

machine() {
  local cpu
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
  echo "$(nproc) CPUs ($cpu), kernel $(uname -r), $(grep -m1 MemTotal /proc/meminfo | awk '{printf "%.1f GiB RAM", $2 / 1048576}'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# --- The local system (scripts/local-env.sh, in its own run directory) ---------------------------

local_dir=$out_dir/local
lb_port=""
local_env() { LOCAL_RUN_DIR=$local_dir BUILD_DIR=$build_dir "$repo/scripts/local-env.sh" "$@"; }

local_up() {  # MODE: $clusters clusters with that replication mode, every follower attached
  lb_port=$(free_port 28080)
  LB_URL=http://127.0.0.1:$lb_port
  # The slave and Redis ports of the first launch again: local-env.sh then skips its slow search
  # for a free block of ports (seconds on a busy machine).
  if [[ -f $out_dir/slave_base ]]; then mkdir -p "$local_dir" && cp "$out_dir"/{slave,redis}_base "$local_dir"/; fi
  REPLICATION_MODE=$1 local_env "$clusters" "$lb_port" >>"$out_dir/local-env.log" 2>&1 ||
    die "the local system did not start (log: $out_dir/local-env.log)"
  cp "$local_dir"/{slave,redis}_base "$out_dir"/
  [[ $1 == none ]] && return
  local deadline=$(( $(date +%s) + 30 ))
  until [[ $(status_field followers) == $(( clusters - 1 )) ]]; do
    (( $(date +%s) < deadline )) || die "the followers of the leader did not attach within 30 s"
    sleep 0.2
  done
}

local_down() {
  if [[ -d $local_dir ]]; then local_env down >>"$out_dir/local-env.log" 2>&1 || say "stopping the local system failed"; fi
}

slave_port() { echo $(( $(cat "$local_dir/slave_base") + $1 )); }

# --- wrk ------------------------------------------------------------------------------------------

result_field() { grep -o "\b$1=[^ ]*" <<<"$2" | cut -d= -f2; }  # NAME RESULT-LINE

# wrk_run OP URL SECTION SIDE RUN [CONNECTIONS] [SECONDS]: one bounded wrk run; records rps, p50_ms,
# p99_ms, max_ms, slow (requests over 250 ms) and failed.
wrk_run() {
  local op=$1 url=$2 section=$3 side=$4 run=$5 connections=${6:-64} seconds=${7:-$duration} line
  line=$(BENCH_OP=$op BENCH_KEYS=$keys BENCH_TAG="$side$run" timeout -k 5 $(( seconds + 30 )) \
           wrk -t2 -c"$connections" -d"${seconds}s" --timeout 5s -s "$repo/bench/wrk.lua" "$url" | tee -a "$out_dir/wrk.log" |
           grep '^RESULT') || die "wrk against $url failed (log: $out_dir/wrk.log)"
  local rps p50 p99 max slow non2xx errors
  rps=$(result_field rps "$line"); p50=$(result_field p50_ms "$line"); p99=$(result_field p99_ms "$line")
  max=$(result_field max_ms "$line"); slow=$(result_field slow "$line")
  non2xx=$(result_field non2xx "$line"); errors=$(result_field socket_errors "$line")
  record "$section" "$side" "$run" rps "$rps"
  record "$section" "$side" "$run" p50_ms "$p50"
  record "$section" "$side" "$run" p99_ms "$p99"
  record "$section" "$side" "$run" max_ms "$max"
  record "$section" "$side" "$run" slow "$slow"
  record "$section" "$side" "$run" failed $(( non2xx + errors ))
  say "  $section $side run $run: $rps req/s, p50 $p50 ms, p99 $p99 ms, max $max ms, $slow over 250 ms, $non2xx non-2xx, $errors socket errors"
}

# --- GET: the LB against nginx over the same slaves -----------------------------------------------

nginx_pid=""

# Both references get the LB's own bounds (connect 300 ms, answer 2 s) and their own ways around a
# failing server: nginx's passive max_fails and proxy_next_upstream, HAProxy's health checks every
# 200 ms, retry-on response-timeout and redispatch. Without them they would wait 60 s (nginx's
# default read timeout) on a frozen slave.
nginx_up() {  # PORT: nginx as a reverse proxy over the local system's slaves, with upstream keepalive
  local port=$1 dir=$out_dir/nginx servers="" i
  mkdir -p "$dir"
  for (( i = 0; i < clusters; i++ )); do servers+="    server 127.0.0.1:$(slave_port "$i") max_fails=1 fail_timeout=1s;"$'\n'; done
  cat >"$dir/nginx.conf" <<EOT
worker_processes $(nproc);
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  upstream slaves {
$servers    keepalive 64;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://slaves;
      proxy_http_version 1.1;
      proxy_set_header Connection "keep-alive";
      proxy_connect_timeout 300ms;
      proxy_read_timeout 2s;
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 3;
    }
  }
}
EOT
  /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >>"$dir/stdout.log" 2>&1 &
  nginx_pid=$!
  wait_proxy nginx "$nginx_pid" "$port" "$dir/error.log"
}

# wait_proxy NAME PID PORT LOG: until the proxy serves a key, at most 10 s.
wait_proxy() {
  local deadline=$(( $(date +%s) + 10 ))
  until curl -sf --max-time 2 "http://127.0.0.1:$3/get/bench-key-0" >/dev/null; do
    kill -0 "$2" 2>/dev/null || die "$1 exited (log: $4)"
    (( $(date +%s) < deadline )) || die "$1 does not answer on port $3 (log: $4)"
    sleep 0.2
  done
}

nginx_down() {
  [[ -n $nginx_pid ]] || return 0
  kill -QUIT "$nginx_pid" 2>/dev/null || true
  wait "$nginx_pid" 2>/dev/null || true
  nginx_pid=""
}

haproxy_pid=""

haproxy_up() {  # PORT: HAProxy over the same slaves, one thread per CPU, connections reused
  local port=$1 dir=$out_dir/haproxy i
  mkdir -p "$dir"
  {
    printf 'global\n  nbthread %s\n  maxconn 4096\n\n' "$(nproc)"
    printf 'defaults\n  mode http\n  timeout connect 300ms\n  timeout client 30s\n  timeout server 2s\n'
    printf '  timeout check 300ms\n  retries 2\n  option redispatch\n'
    printf '  retry-on conn-failure empty-response response-timeout\n  http-reuse always\n\n'
    printf 'frontend bench\n  bind 127.0.0.1:%s\n  default_backend slaves\n\n' "$port"
    printf 'backend slaves\n  balance roundrobin\n  option httpchk GET /healthz\n'
    for (( i = 0; i < clusters; i++ )); do
      printf '  server slave-%d 127.0.0.1:%s check inter 200 fall 2 rise 1\n' "$i" "$(slave_port "$i")"
    done
  } >"$dir/haproxy.cfg"
  haproxy -db -f "$dir/haproxy.cfg" >>"$dir/haproxy.log" 2>&1 &
  haproxy_pid=$!
  wait_proxy haproxy "$haproxy_pid" "$port" "$dir/haproxy.log"
}

haproxy_down() {
  [[ -n $haproxy_pid ]] || return 0
  kill -USR1 "$haproxy_pid" 2>/dev/null || true  # soft stop
  wait "$haproxy_pid" 2>/dev/null || true
  haproxy_pid=""
}

populate() {  # bench-key-0..keys-1 through the LB, 16 at a time
  local config=$out_dir/populate.curl i ok
  : >"$config"
  for (( i = 0; i < keys; i++ )); do
    printf 'url = "%s/set"\ndata = "{\\"key\\":\\"bench-key-%d\\",\\"value\\":\\"value-%d\\"}"\nheader = "Content-Type: application/json"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nmax-time = 5\n' \
      "$LB_URL" "$i" "$i" >>"$config"
    (( i + 1 < keys )) && echo next >>"$config"
  done
  ok=$(curl -s --no-progress-meter --parallel --parallel-max 16 -K "$config" | grep -c '^200$' || true)
  [[ $ok == "$keys" ]] || die "only $ok of $keys keys were written through the LB"
}

# The GET and frozen sections' system: the keys written, every slave serving a GET without the
# leader headers (what nginx and HAProxy send), and both references up.
proxies_up() {
  local_up sync
  say "  writing $keys keys through the LB"
  populate
  # nginx sends no X-Leader-Term/X-Leader: a slave serves such a request with the leader it knows
  # (docs/PROTOCOL.md section 2). Check it on every slave before measuring through nginx.
  local i
  for (( i = 0; i < clusters; i++ )); do
    curl -sf --max-time 2 "http://127.0.0.1:$(slave_port "$i")/get/bench-key-1" | grep -q '"value-1"' ||
      die "slave $i does not serve a GET without the leader headers"
  done
  nginx_port=$(free_port $(( lb_port + 1 )))
  nginx_up "$nginx_port"
  haproxy_port=$(free_port $(( nginx_port + 1 )))
  haproxy_up "$haproxy_port"
}

proxies_down() { haproxy_down; nginx_down; local_down; }

proxy_url() {  # SIDE
  case $1 in lb) echo "$LB_URL" ;; nginx) echo "http://127.0.0.1:$nginx_port" ;; haproxy) echo "http://127.0.0.1:$haproxy_port" ;; esac
}

section_get() {
  say "GET: wrk -t2 -c64 -d${duration}s, the LB, nginx and HAProxy (connections reused) over the same $clusters slaves, $pairs rounds"
  proxies_up
  local run side
  for (( run = 1; run <= pairs; run++ )); do
    for side in lb nginx haproxy; do wrk_run get "$(proxy_url "$side")" get "$side" "$run"; done
  done
  proxies_down
}

# --- A frozen slave: the LB, nginx and HAProxy with the same slave stopped --------------------------

frozen_pid=""
thaw() { [[ -n $frozen_pid ]] && kill -CONT "$frozen_pid" 2>/dev/null; frozen_pid=""; }

section_frozen() {
  say "Frozen slave: GET under wrk with $frozen_clients connections, slave 1 stopped (SIGSTOP) for $frozen_s s of each run"
  proxies_up
  local clients side wrk_pid seconds=$(( frozen_s + 4 ))
  for clients in $frozen_clients; do
    for side in lb nginx haproxy; do
      wrk_run get "$(proxy_url "$side")" frozen "$side" "c$clients" "$clients" "$seconds" &
      wrk_pid=$!
      sleep 2
      frozen_pid=$(cat "$local_dir/slave-1.pid")
      kill -STOP "$frozen_pid"
      sleep "$frozen_s"
      thaw
      wait "$wrk_pid" || die "wrk failed in the frozen section"
      sleep 3  # every proxy takes the slave back before the next run
    done
  done
  proxies_down
}

# --- Gray failures: each process stopped, then throttled, under GET load --------------------------

# "none" first: the same load with no fault, what this machine's own noise costs.
gray_rows=(none leader-slave follower-slave leader-redis follower-redis lb)

gray_pid() {  # ROW: the PID of that process now (the leader from /lb/status, its next cluster as follower)
  local leader; leader=$(status_field leader)
  [[ -n $leader ]] || die "the LB names no leader"
  local follower=$(( (leader + 1) % clusters ))
  case $1 in
    leader-slave) cat "$local_dir/slave-$leader.pid" ;;
    follower-slave) cat "$local_dir/slave-$follower.pid" ;;
    leader-redis) cat "$local_dir/redis-$leader.pid" ;;
    follower-redis) cat "$local_dir/redis-$follower.pid" ;;
    lb) cat "$local_dir/lb.pid" ;;
    none) echo 0 ;;
  esac
}

# Every cluster ready and every follower attached again: each row starts from the whole system (a
# stopped leader's Redis is replaced, and comes back as a follower that must resync first).
gray_settle() {
  local deadline=$(( $(date +%s) + 60 )) status
  while true; do
    status=$(lb_status)
    [[ $(list_count "$(status_field ready "$status")") == "$clusters" &&
       $(status_field followers "$status") == $(( clusters - 1 )) ]] && return 0
    (( $(date +%s) < deadline )) || die "the system did not settle within 60 s (status: $status)"
    sleep 0.2
  done
}

# gray_run ROW FAULT SECONDS: one row; its figures go to raw.txt as "gray ROW FAULT NAME VALUE", and
# what every log of the system said meanwhile to $out_dir/gray/ROW-FAULT/, for a row that fails.
gray_run() {
  local row=$1 fault=$2 seconds=$3 pid line log dir=$out_dir/gray/$1-$2 name
  gray_settle
  pid=$(gray_pid "$row")
  mkdir -p "$dir"
  declare -A lines=()
  for log in "$local_dir"/*.log; do lines[$log]=$(wc -l <"$log"); done
  line=$(timeout -k 5 $(( seconds + 30 )) "$build_dir/bench/gray_bench" "$lb_port" "$pid" "$fault" "$seconds" \
           "$gray_clients" gray-key 2>"$dir/gray_bench.err" | grep '^RESULT') || true
  for log in "${!lines[@]}"; do tail -n +$(( lines[$log] + 1 )) "$log" >"$dir/$(basename "$log")"; done
  if [[ $line == *unavailable=* ]]; then
    record gray "$row" "$fault" unavailable 1
    say "  $row $fault: cannot run here: ${line#*unavailable=}"
    return
  fi
  [[ -n $line ]] || die "gray_bench failed for $row $fault (log: $dir/gray_bench.err)"
  for name in reads failed slowest_ms slow slowest_after_onset_ms failures failed_from_ms failed_to_ms; do
    record gray "$row" "$fault" "$name" "$(result_field "$name" "$line")"
  done
  say "  $row $fault ${seconds} s: ${line#RESULT }"
}

section_gray() {
  say "Gray failures: GET with $gray_clients keep-alive clients; each process stopped $gray_stop_s s, then held to 5 % of a core $gray_throttle_s s"
  local_up sync
  # A write right after the launch may meet a lease not yet granted (503, nothing written): retry.
  local deadline=$(( $(date +%s) + 10 ))
  until curl -sf --max-time 5 -X POST "$LB_URL/set" -H 'Content-Type: application/json' \
          -d '{"key":"gray-key","value":"v"}' >/dev/null; do
    (( $(date +%s) < deadline )) || die "writing gray-key through the LB failed for 10 s"
    sleep 0.2
  done
  local row
  for row in "${gray_rows[@]}"; do
    if [[ $row == none ]]; then gray_run none none "$gray_stop_s"; continue; fi
    gray_run "$row" stop "$gray_stop_s"
    gray_run "$row" throttle "$gray_throttle_s"
  done
  local_down
}

gray_figure() { awk -v r="$1" -v f="$2" -v n="$3" '$1 == "gray" && $2 == r && $3 == f && $4 == n { print $5 }' "$out_dir/raw.txt"; }

gray_table() {
  echo
  echo "### Gray failures"
  echo
  echo "GET, $gray_clients keep-alive clients, 2 s before the fault and 2 s after it; slow: answers over 250 ms that arrived after the fault's first 250 ms."
  echo
  echo "| process | fault | requests | failed | failed by kind (first–last, ms from the fault's start) | slowest ms | slow | slowest ms after 250 ms |"
  echo "|---|---|---|---|---|---|---|---|"
  local row fault what
  for row in "${gray_rows[@]}"; do
    for fault in stop throttle none; do
      case $fault in
        stop) what="SIGSTOP $gray_stop_s s" ;; throttle) what="5 % of a core $gray_throttle_s s" ;; none) what="none ($gray_stop_s s)" ;;
      esac
      if [[ -n $(gray_figure "$row" "$fault" unavailable) ]]; then
        echo "| $row | $what | cannot run here (no cgroup cpu controller) | | | | | |"
        continue
      fi
      [[ -n $(gray_figure "$row" "$fault" reads) ]] || continue
      local kinds=-
      [[ $(gray_figure "$row" "$fault" failed) == 0 ]] ||
        kinds="$(gray_figure "$row" "$fault" failures) ($(gray_figure "$row" "$fault" failed_from_ms)–$(gray_figure "$row" "$fault" failed_to_ms))"
      echo "| $row | $what | $(gray_figure "$row" "$fault" reads) | $(gray_figure "$row" "$fault" failed) | $kinds | $(gray_figure "$row" "$fault" slowest_ms) | $(gray_figure "$row" "$fault" slow) | $(gray_figure "$row" "$fault" slowest_after_onset_ms) |"
    done
  done
}

# --- SET through the LB in each replication mode --------------------------------------------------

modes=(none async sync)

section_set() {
  say "SET: wrk POST /set with new keys, replication modes ${modes[*]}, $pairs rounds (a new system for each run)"
  local run m mode
  for (( run = 1; run <= pairs; run++ )); do
    for (( m = 0; m < ${#modes[@]}; m++ )); do
      mode=${modes[$(( (m + run - 1) % ${#modes[@]} ))]}  # each round starts with the next mode
      local_up "$mode"
      wrk_run set "$LB_URL" set "$mode" "$run"
      # What the last writes were acknowledged as: a sync run made of degraded writes measured async.
      local replication
      replication=$(curl -s --max-time 5 -D - -o /dev/null -X POST "$LB_URL/set" -H 'Content-Type: application/json' \
        -d '{"key":"bench-check","value":"v"}' | tr -d '\r' | sed -n 's/^[Xx]-[Rr]eplication: //p')
      record set "$mode" "$run" replication "${replication:-unacknowledged}"
      local_down
    done
  done
}

# --- Failover: consult-db against Redis Sentinel --------------------------------------------------

# failover_batch SIDE RUN COUNT PROGRAM ARGS...: records RAW failover_ms/writes lines of one batch.
failover_batch() {
  local side=$1 run=$2 count=$3 log=$out_dir/failover-$1-$2.log
  shift 3
  timeout -k 10 $(( 60 + 30 * count )) "$@" >"$log" 2>&1 || say "  $side batch $run failed (log: $log)"
  grep -q '^RAW stopped_early' "$log" && say "  $side batch $run stopped early: $(sed -n 's/^RAW stopped_early //p' "$log")"
  awk -v s="$side" -v r="$run" '
    $1 == "RAW" && $2 == "failover_ms" { print "failover", s, r, "failover_ms", $3 }
    $1 == "RAW" && $2 == "writes" { print "failover", s, r, "acknowledged_" $3, $4; print "failover", s, r, "lost_" $3, $5 }' \
    "$log" >>"$out_dir/raw.txt"
  say "  $side batch $run: $(grep -c '^RAW failover_ms' "$log") kills, ms: $(sed -n 's/^RAW failover_ms //p' "$log" | tr '\n' ' ')"
}

section_failover() {
  say "Failover: $kills kills each, consult-db (3 clusters, sync) and Redis Sentinel in alternating batches of $kill_batch"
  local done_kills=0 batch=1 count
  while (( done_kills < kills )); do
    count=$(( kills - done_kills < kill_batch ? kills - done_kills : kill_batch ))
    failover_batch consult-db "$batch" "$count" "$build_dir/bench/failover_bench" "$count" "$clusters" sync
    failover_batch sentinel "$batch" "$count" "$build_dir/bench/sentinel_failover_bench" "$count" 100
    done_kills=$(( done_kills + count )); batch=$(( batch + 1 ))
  done
}

# --- Launch time and image sizes (Docker) ---------------------------------------------------------

compose_skip_reason() {
  [[ $bench_compose == 0 ]] && { echo "BENCH_COMPOSE=0"; return; }
  command -v docker >/dev/null || { echo "docker is not installed"; return; }
  timeout 10 docker info >/dev/null 2>&1 || echo "no Docker engine answers (scripts/ensure-docker.sh starts one)"
}

# Runs under flock $docker_lock (the images and the Compose project are shared by every worktree).
locked_compose() {
  local containers
  touch "$out_dir/compose_started"
  containers=$(docker ps -q --filter label=com.docker.compose.project=consult-db) || die "docker ps failed"
  if [[ -n $containers ]]; then
    say "skipped launch time and image sizes: a Compose project consult-db runs already"
    echo "skipped: a Compose project consult-db runs already" >"$out_dir/compose_skipped"
    return 0
  fi
  say "  images: docker/build-images.sh (builds only when missing or stale)"
  DOCKER_BUILDKIT=0 "$repo/docker/build-images.sh" >>"$out_dir/compose.log" 2>&1 || die "the images did not build (log: $out_dir/compose.log)"
  local image
  for image in slave lb; do
    record footprint "$image" 1 image_mb "$(docker image inspect -f '{{.Size}}' "consult-db-$image:latest" | awk '{printf "%.1f", $1 / 1e6}')"
  done
  [[ " $sections " == *" launch "* ]] || return 0
  trap '"$repo/launch-env" down >>"$out_dir/compose.log" 2>&1' EXIT
  local size port start end
  for size in $launch_sizes; do
    port=$(free_port 28180)
    start=$(date +%s%N)
    "$repo/launch-env" "$size" --port "$port" >>"$out_dir/compose.log" 2>&1 || die "./launch-env $size failed (log: $out_dir/compose.log)"
    end=$(date +%s%N)
    record launch "n$size" 1 seconds "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')"
    say "  ./launch-env $size: all ready after $(values launch "n$size" seconds) s"
    "$repo/launch-env" down >>"$out_dir/compose.log" 2>&1
  done
}

section_compose() {
  local reason; reason=$(compose_skip_reason)
  if [[ -n $reason ]]; then
    say "skipped launch time and image sizes: $reason"
    echo "skipped: $reason" >"$out_dir/compose_skipped"
    return
  fi
  say "Launch: ./launch-env N for N in $launch_sizes (Docker Compose), under $docker_lock"
  # Another worktree may hold the lock for minutes (an image build): wait, but not for ever.
  BENCH_OUT=$out_dir SECTIONS=$sections BUILD_DIR=$build_dir flock -o -w "$lock_wait_s" "$docker_lock" "$0" --locked-compose &&
    return
  if [[ -f $out_dir/compose_started ]]; then reason="failed (log: $out_dir/compose.log)"
  else reason="skipped: $docker_lock stayed busy for $lock_wait_s s"
  fi
  say "launch time and image sizes: $reason"
  echo "$reason" >"$out_dir/compose_skipped"
}

# --- Idle RSS -------------------------------------------------------------------------------------

rss_mib() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

section_rss() {
  say "Footprint: idle RSS of the slaves and the LB ($clusters clusters, local mode)"
  local_up sync
  sleep 2  # idle: only the probes run
  local i
  for (( i = 0; i < clusters; i++ )); do record footprint slave "$i" rss_mib "$(rss_mib "$(cat "$local_dir/slave-$i.pid")")"; done
  record footprint lb 1 rss_mib "$(rss_mib "$(cat "$local_dir/lb.pid")")"
  local_down
}

# --- Report ---------------------------------------------------------------------------------------

report() {
  echo "## Benchmark results"
  echo
  echo "Machine: $(machine)"
  echo "Commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown); command: DURATION=$duration PAIRS=$pairs KILLS=$kills KILL_BATCH=$kill_batch SECTIONS=\"$sections\" make bench"
  echo
  echo "### Raw figures (section side run figure value)"
  echo
  echo '```'
  cat "$out_dir/raw.txt"
  echo '```'
  echo
  echo "### Summary"
  echo
  echo "| figure | consult-db | reference | consult-db / reference | goal |"
  echo "|---|---|---|---|---|"
  if [[ " $sections " == *" get "* ]]; then
    local lb_rps ng_rps lb_p50 ng_p50 lb_p99 ng_p99
    lb_rps=$(values get lb rps | median); ng_rps=$(values get nginx rps | median)
    lb_p50=$(values get lb p50_ms | median); ng_p50=$(values get nginx p50_ms | median)
    lb_p99=$(values get lb p99_ms | median); ng_p99=$(values get nginx p99_ms | median)
    echo "| GET req/s, median of $pairs (reference: nginx) | $(fmt "$lb_rps") | $(fmt "$ng_rps") | $(ratio "$lb_rps" "$ng_rps")× | ≥ 1.0× |"
    echo "| GET p50 latency ms, median | $(fmt "$lb_p50" 2) | $(fmt "$ng_p50" 2) | $(ratio "$lb_p50" "$ng_p50")× | |"
    echo "| GET p99 latency ms, median | $(fmt "$lb_p99" 2) | $(fmt "$ng_p99" 2) | $(ratio "$lb_p99" "$ng_p99")× | ≤ 1.2× |"
    echo "| GET failed requests (non-2xx, socket errors), total | $(sum_of get lb failed) | $(sum_of get nginx failed) | | 0 |"
  fi
  if [[ " $sections " == *" get "* ]]; then
    local ha_rps ha_p99
    ha_rps=$(values get haproxy rps | median); ha_p99=$(values get haproxy p99_ms | median)
    echo "| GET req/s, median of $pairs (reference: HAProxy) | $(fmt "$lb_rps") | $(fmt "$ha_rps") | $(ratio "$lb_rps" "$ha_rps")× | ≥ 1.0× |"
    echo "| GET p99 latency ms, median (reference: HAProxy) | $(fmt "$lb_p99" 2) | $(fmt "$ha_p99" 2) | $(ratio "$lb_p99" "$ha_p99")× | ≤ 1.2× |"
  fi
  if [[ " $sections " == *" frozen "* ]]; then
    local clients side
    for clients in $frozen_clients; do
      for side in nginx haproxy; do
        echo "| slave 1 frozen ${frozen_s} s, $clients connections: reads over 250 ms / max ms / failed (reference: $side) | $(frozen_figure lb "$clients" slow) / $(frozen_figure lb "$clients" max_ms) / $(frozen_figure lb "$clients" failed) | $(frozen_figure "$side" "$clients" slow) / $(frozen_figure "$side" "$clients" max_ms) / $(frozen_figure "$side" "$clients" failed) | | 0 / < 250 / 0 |"
      done
    done
  fi
  if [[ " $sections " == *" set "* ]]; then
    local none_rps mode rps p99
    none_rps=$(values set none rps | median)
    for mode in "${modes[@]}"; do
      rps=$(values set "$mode" rps | median); p99=$(values set "$mode" p99_ms | median)
      echo "| SET req/s, replication $mode, median of $pairs (p99 ms) | $(fmt "$rps") ($(fmt "$p99" 2)) | none: $(fmt "$none_rps") | $(ratio "$rps" "$none_rps")× | cost vs none |"
    done
    echo "| SET acknowledged as (X-Replication of a write after each run) | $(for mode in "${modes[@]}"; do echo -n "$mode: $(values set "$mode" replication | sort | uniq -c | awk '{printf "%s×%s ", $2, $1}')"; done) | | | |"
  fi
  if [[ " $sections " == *" failover "* ]]; then
    local ours theirs o_min o_med o_p90 o_max o_n s_min s_med s_p90 s_max s_n
    ours=$(values failover consult-db failover_ms | quantiles); theirs=$(values failover sentinel failover_ms | quantiles)
    read -r o_min o_med o_p90 o_max o_n <<<"$ours"; read -r s_min s_med s_p90 s_max s_n <<<"$theirs"
    echo "| failover ms (kill → first acknowledged write) min / median / p90 / max (reference: Sentinel) | $(fmt "$o_min") / $(fmt "$o_med") / $(fmt "$o_p90") / $(fmt "$o_max") ($o_n kills) | $(fmt "$s_min") / $(fmt "$s_med") / $(fmt "$s_p90") / $(fmt "$s_max") ($s_n kills) | median $(ratio "$o_med" "$s_med")×, max $(ratio "$o_max" "$s_max")× | worst < 1500 ms |"
    local class
    for class in synced degraded; do
      echo "| acknowledged writes lost, $class (of acknowledged) | $(sum_of failover consult-db "lost_$class") of $(sum_of failover consult-db "acknowledged_$class") | $(sum_of failover sentinel "lost_$class") of $(sum_of failover sentinel "acknowledged_$class") | | $( [[ $class == synced ]] && echo "0 in sync" ) |"
    done
  fi
  if [[ " $sections " == *" launch "* ]]; then
    local size goal
    for size in $launch_sizes; do
      case $size in 5) goal="< 10 s" ;; 20) goal="< 30 s" ;; *) goal="" ;; esac
      echo "| ./launch-env $size (Compose), s to all ready | $(compose_figure launch "n$size" seconds) | | | $goal |"
    done
  fi
  if [[ " $sections " == *" footprint "* ]]; then
    echo "| image size MB, slave / lb | $(compose_figure footprint slave image_mb) / $(compose_figure footprint lb image_mb) | | | < 140 / < 130 |"
    echo "| idle RSS MiB, slave (largest of $clusters) / lb | $(values footprint slave rss_mib | sort -g | tail -n1) / $(values footprint lb rss_mib | median) | | | < 10 / < 15 |"
  fi
  if [[ " $sections " == *" gray "* ]]; then gray_table; fi
}

# A figure of the Docker sections, or why it was skipped.
compose_figure() {
  local value; value=$(values "$@" | median)
  if [[ $value == - && -f $out_dir/compose_skipped ]]; then cat "$out_dir/compose_skipped"; else echo "$value"; fi
}

frozen_figure() {  # SIDE CLIENTS NAME
  awk -v s="$1" -v c="c$2" -v n="$3" '$1 == "frozen" && $2 == s && $3 == c && $4 == n { print $5 }' "$out_dir/raw.txt"
}

# Sum of a figure over all runs; "-" when there is none.
sum_of() { values "$@" | awk '{ s += $1; n++ } END { print n ? s : "-" }'; }

cleanup() { thaw; haproxy_down; nginx_down; local_down; }

main() {
  command -v wrk >/dev/null || die "wrk is missing: make bench-deps (as root)"
  [[ -x /usr/sbin/nginx ]] || die "nginx is missing: make bench-deps (as root)"
  command -v haproxy >/dev/null || die "haproxy is missing: make bench-deps (as root)"
  [[ -x $build_dir/bench/failover_bench && -x $build_dir/bench/sentinel_failover_bench && -x $build_dir/bench/gray_bench ]] ||
    die "build first: make build"
  mkdir -p "$out_dir"
  : >"$out_dir/raw.txt"
  trap cleanup EXIT
  say "results in $out_dir; machine: $(machine)"
  [[ " $sections " == *" get "* ]] && section_get
  [[ " $sections " == *" frozen "* ]] && section_frozen
  [[ " $sections " == *" gray "* ]] && section_gray
  [[ " $sections " == *" set "* ]] && section_set
  [[ " $sections " == *" failover "* ]] && section_failover
  [[ " $sections " == *" footprint "* ]] && section_rss
  [[ " $sections " == *" launch "* || " $sections " == *" footprint "* ]] && section_compose
  report | tee "$out_dir/results.md"
}

if [[ ${1:-} == --locked-compose ]]; then
  locked_compose
else
  main
fi
