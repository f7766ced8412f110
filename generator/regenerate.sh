#!/usr/bin/env bash
# Rewrites the checked-in generated files listed in generator/checked-in-outputs.txt
# (compose/docker-compose.yml and k8s/consult-db.yaml, N=3). With --golden it also rewrites the
# test golden files listed in tests/generator/golden/cases.txt: do that only for an intended change
# of the output, and review it with git diff.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lists=("$repo/generator/checked-in-outputs.txt")
case ${1:-} in
  "") ;;
  --golden) lists+=("$repo/tests/generator/golden/cases.txt") ;;
  *) echo "usage: generator/regenerate.sh [--golden]" >&2; exit 2 ;;
esac

cd "$repo"  # the lists name files and values files relative to the repository root
set -f      # the arguments are split on spaces, never globbed
for list in "${lists[@]}"; do
  while read -r file arguments; do
    [[ -z $file || $file == \#* ]] && continue
    # shellcheck disable=SC2086
    "$repo/generator/generate" $arguments --output "$file"
    echo "wrote $file"
  done < "$list"
done
