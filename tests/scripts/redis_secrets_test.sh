#!/usr/bin/env bash
# scripts/redis-secrets.sh, the launchers' Redis passwords (docs/SECURITY.md): created once with mode
# 0600 in a 0700 directory, reused, never printed, refused when readable by others, malformed or
# inside the repository. Prints "N passed, M failed"; exits 1 on any failure.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() {  # description command...
  local description=$1; shift
  if "$@"; then passed=$(( passed + 1 )); echo "  ok    $description"
  else failed=$(( failed + 1 )); echo "  FAIL  $description"; fi
}

# ensure FILE: runs ensure_secrets for FILE in a fresh shell, as a launcher does; output in $work/out.
ensure() {
  CONSULT_DB_SECRETS_FILE=$1 bash -c 'repo=$1; die() { echo "die: $*" >&2; exit 1; }
    source "$repo/scripts/redis-secrets.sh"; ensure_secrets' _ "$repo" >"$work/out" 2>&1
}
values() { cut -d= -f2- "$1"; }
printed_none() { local value; while read -r value; do grep -qF -- "$value" "$work/out" && return 1; done < <(values "$1"); return 0; }
refused() { ! ensure "$1" && grep -q "$2" "$work/out"; }

file=$work/config/consult-db/secrets.env
check "the first launch creates the file" ensure "$file"
check "mode 600" [ "$(stat -c %a "$file")" = 600 ]
check "in a directory of mode 700" [ "$(stat -c %a "$(dirname "$file")")" = 700 ]
five_random() { [[ $(values "$1" | grep -Ec '^[0-9a-f]{64}$') == 5 && $(values "$1" | sort -u | wc -l) == 5 ]]; }
check "five different secrets of 64 hex digits" five_random "$file"
check "no password is printed" printed_none "$file"
cp "$file" "$work/first"
check "a later launch reuses the file" ensure "$file"
check "with the same passwords" cmp -s "$file" "$work/first"
grep -v '^CONTROL_PLANE_KEY=\|^ADMIN_TOKEN=' "$work/first" >"$file"
check "a file from before the control-plane key is completed" ensure "$file"
check "with its passwords kept" cmp -s <(head -3 "$file") <(head -3 "$work/first")
check "and two new secrets" five_random "$file"
check "still of mode 600" [ "$(stat -c %a "$file")" = 600 ]
check "and none printed" printed_none "$file"
chmod 644 "$file"
check "a file others may read is refused" refused "$file" "chmod 600"
chmod 600 "$file"
sed -i 's/^REDIS_DATA_PASSWORD=.*/REDIS_DATA_PASSWORD=short/' "$file"
check "a malformed password is refused, by name" refused "$file" "no valid REDIS_DATA_PASSWORD"
check "and not printed" printed_none "$file"
check "a file inside the repository is refused" refused "$repo/.run/secrets-test.env" "inside the repository"
check "and not created" [ ! -e "$repo/.run/secrets-test.env" ]

echo "$passed passed, $failed failed"
(( failed == 0 ))
