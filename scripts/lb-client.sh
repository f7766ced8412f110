# shellcheck shell=bash
# Helpers for scripts that talk to a running load balancer (the Compose and kind modes, the
# end-to-end test): sourced, not run. The caller sets LB_URL (http://127.0.0.1:PORT).
# /lb/status is one line of compact JSON; its top-level fields come before the nested ones
# ("clusters", "last_election"), so the first match of a field is the top-level one. That keeps these
# scripts free of a JSON tool that a user's machine may lack.

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }  # something listens on 127.0.0.1:PORT

lb_status() { curl -sf --max-time 2 "$LB_URL/lb/status" || true; }

# status_field NAME [STATUS]: the first value of a number or number-list field, e.g. 3 or [0,1,2];
# empty when absent or null. STATUS defaults to a fresh /lb/status.
# Bash's own matching, no grep or sed: wait_ready calls this several times a poll, and on a loaded
# 2-core machine each program started costs milliseconds that delay seeing the system ready.
status_field() {
  local status=${2-$(lb_status)} value='(\[[0-9,]*\]|-?[0-9]+)'
  if [[ $status =~ \"$1\":$value ]]; then echo "${BASH_REMATCH[1]}"; fi
}

# list_count "[0,1,2]" -> 3
list_count() {
  local items=${1#[}
  items=${items%]}
  local commas=${items//[^,]/}
  if [[ -z $items ]]; then echo 0; else echo $(( ${#commas} + 1 )); fi
}

# set_lb_size M TIMEOUT_S: the LB drains clusters >= M (moves the leader off them) or admits new
# ones. Retries while the LB is not answering yet (just started); returns 1 on timeout. The admin
# token comes from the secrets file ($secrets_file, scripts/redis-secrets.sh) and reaches curl on
# standard input, never on a command line.
set_lb_size() {
  local deadline=$(( $(date +%s) + $2 ))
  until sed -n 's/^ADMIN_TOKEN=/Authorization: Bearer /p' "$secrets_file" |
        curl -sf --max-time 2 -X PUT -H @- "$LB_URL/lb/size" -d "{\"size\":$1}" >/dev/null; do
    (( $(date +%s) < deadline )) || return 1
    sleep 0.5
  done
}

# wait_ready N TIMEOUT_S: until the LB reports N ready clusters and a leader, with a progress line.
# Returns 1 on timeout.
wait_ready() {
  local want=$1 deadline=$(( $(date +%s) + $2 )) status ready term leader
  while true; do
    status=$(lb_status)
    ready=$(list_count "$(status_field ready "$status")")
    term=$(status_field term "$status"); leader=$(status_field leader "$status")
    printf '\r  %s/%s clusters ready, leader term %s   ' "$ready" "$want" "${term:-none}"
    if [[ $ready -eq $want && ${term:-0} -gt 0 && -n $leader ]]; then echo; return 0; fi
    if (( $(date +%s) >= deadline )); then echo; return 1; fi
    sleep 0.2  # the LB publishes its status every probe round (200 ms)
  done
}

# wait_drained FROM TO TIMEOUT_S: until every index in [FROM, TO) is reported drained, i.e. the leader
# has moved off them and they can be removed. Returns 1 on timeout.
wait_drained() {
  local from=$1 to=$2 deadline=$(( $(date +%s) + $3 )) drained i
  while true; do
    drained=",$(status_field drained | tr -d '[]'),"
    for (( i = from; i < to; i++ )); do [[ $drained == *",$i,"* ]] || break; done
    (( i == to )) && return 0
    (( $(date +%s) >= deadline )) && return 1
    sleep 0.5
  done
}

# print_ready HINT: the URL and three requests to try, then a line of the caller's commands.
print_ready() {
  cat <<EOT
Ready: $LB_URL    (live topology: $LB_URL/lb/ui)
  curl -s -X POST $LB_URL/set -H 'Content-Type: application/json' -d '{"key":"hello","value":"world"}'
  curl -s $LB_URL/get/hello
  curl -s '$LB_URL/list-keys?pattern=*'
$1
EOT
}

# print_status: /lb/status, indented when python3 is there. Returns 1 when the LB does not answer.
print_status() {
  local status; status=$(lb_status)
  [[ -n $status ]] || return 1
  if command -v python3 >/dev/null; then python3 -m json.tool <<<"$status"; else echo "$status"; fi
}
