# shellcheck shell=bash
# What the end-to-end tests (compose_e2e.sh, k8s_e2e.sh) share: sourced, not run. The caller sets
# $work (a temporary directory), $LB_URL (http://127.0.0.1:PORT) once it knows it, and defines
# first_failure_logs; it has sourced scripts/lb-client.sh.
# shellcheck disable=SC2154  # $work and $LB_URL are the caller's

passed=0 failed=0
declare -A acked=()  # key -> value of every write the LB acknowledged

pass() { passed=$(( passed + 1 )); echo "  ok    $1"; }
# The test's logs (its function first_failure_logs) as they are at the first failure: by the end, a
# later step (down, a stopped cluster or pod) may have removed what tells what happened.
fail() {
  failed=$(( failed + 1 )); echo "  FAIL  $1"
  (( failed == 1 )) && first_failure_logs >"$work/first-failure.log" 2>&1
  return 0
}
# finish_test WHAT DIAGNOSE CLEANUP [interrupted]: the end of a test run, from its EXIT trap. Shows
# WHAT (the logs the first failure saw, then DIAGNOSE's output now) when something failed, runs
# CLEANUP, prints the counts and exits 1 unless every check passed.
finish_test() {
  local what=$1 diagnose=$2 cleanup=$3
  trap - EXIT INT TERM
  if [[ -s $work/first-failure.log ]]; then
    echo "== $what at the first failure"
    cat "$work/first-failure.log"
  fi
  if (( failed > 0 )) || [[ ${4:-} == interrupted ]]; then
    echo "== $what now"
    "$diagnose"
  fi
  "$cleanup"
  rm -rf "$work"
  echo "$passed passed, $failed failed"
  # An explicit status: a bare `exit` in an EXIT trap would return the status from before the trap.
  local status=0
  (( failed == 0 )) && [[ ${4:-} != interrupted ]] || status=1
  exit "$status"
}
# The data API through the LB, as every deployment must serve it; ends with 50 writes read back.
check_data_api() {
  check "set user:1" set_key user:1 Ada
  check "get user:1" get_is user%3A1 Ada
  check "list-keys finds user:1" lists_key user:1
  check "delete user:1" answers 200 DELETE /delete/user%3A1
  unset 'acked[user:1]'
  check "user:1 is gone (404)" answers 404 GET /get/user%3A1
  check "50 writes and reads" traffic 50 before
}
check() {  # description command...: one test step
  local description=$1; shift
  if "$@"; then pass "$description"; else fail "$description"; fi
}

free_port() {
  local port
  for (( port = 28080; port < 28180; port++ )); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
  return 1
}

# request METHOD PATH [JSON]: sets $code (000 when there was no answer) and $body.
request() {
  local args=(-s -o "$work/body" -w '%{http_code}' --max-time 5 -X "$1" "$LB_URL$2")
  [[ $# -lt 3 ]] || args+=(-H 'Content-Type: application/json' -d "$3")
  code=$(curl "${args[@]}" 2>/dev/null) || true
  body=$(cat "$work/body" 2>/dev/null)
}
set_key() {  # key value: true when acknowledged (and remembered)
  request POST /set "{\"key\":\"$1\",\"value\":\"$2\"}"
  [[ $code == 200 ]] && acked[$1]=$2
}
get_is() { request GET "/get/$1"; [[ $code == 200 && $body == *"\"value\":\"$2\""* ]]; }

# traffic COUNT TAG: COUNT writes, each read back; sets $failures and succeeds when there were none.
# Runs in this shell (never in $(...)), so that the acknowledged keys are remembered.
traffic() {
  local i
  failures=0
  for (( i = 0; i < $1; i++ )); do
    set_key "$2-$i" "v$i" && get_is "$2-$i" "v$i" && continue
    (( failures++ == 0 )) && echo "        first failure: $2-$i answered $code $body"
  done
  (( failures == 0 )) || echo "        $failures of $1 failed"
  (( failures == 0 ))
}
# The same from a background subshell: its acknowledged keys and failure count go to files, which
# traffic_collected reads once it has finished.
traffic_in_background() {
  ( traffic "$1" "$2"
    echo "$failures" >"$work/$2.failures"
    for key in "${!acked[@]}"; do [[ $key == "$2"-* ]] && echo "$key ${acked[$key]}"; done >"$work/$2.acked" ) &
}
traffic_collected() {
  local key value
  while read -r key value; do acked[$key]=$value; done <"$work/$1.acked"
  [[ $(cat "$work/$1.failures") == 0 ]]
}

no_key_lost() {  # every acknowledged key still reads back its value (one curl for all of them)
  local keys=("${!acked[@]}") urls=() key answer code lost=0 i=0
  for key in "${keys[@]}"; do urls+=("$LB_URL/get/$key"); done
  # Each answer is the JSON body (one line) and then its status code on a line of its own.
  while IFS= read -r answer && IFS= read -r code; do
    key=${keys[i++]}
    [[ $code == 200 && $answer == *"\"value\":\"${acked[$key]}\""* ]] || lost=$(( lost + 1 ))
  done < <(curl -s --max-time 60 -w '\n%{http_code}\n' "${urls[@]}")
  (( i == ${#keys[@]} )) || lost=$(( lost + ${#keys[@]} - i ))  # no answer at all counts as lost
  (( lost == 0 )) || echo "        $lost of ${#keys[@]} keys lost"
  (( lost == 0 ))
}

answers() { request "${@:2}"; [[ $code == "$1" ]]; }  # answers CODE METHOD PATH [JSON]
lists_key() { request GET "/list-keys?pattern=$1"; [[ $code == 200 && $body == *"\"$1\""* ]]; }
quietly() { "$@" >/dev/null 2>&1; }
ready_is() { [[ $(list_count "$(status_field ready)") == "$1" ]]; }
healthz_ok() { curl -sf --max-time 2 "$LB_URL/lb/healthz" >/dev/null; }
# until_true TIMEOUT_S command...: polls every 0.5 s
until_true() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@"; do (( $(date +%s) < deadline )) || return 1; sleep 0.5; done
}
section() { echo "== $* (at $(( $(date +%s) - started )) s)"; }
