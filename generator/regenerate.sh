#!/usr/bin/env bash
# Rewrites the checked-in generated files listed in generator/checked-in-outputs.txt
# (compose/docker-compose.yml and k8s/consult-db.yaml, N=3) and the table of fields in
# docs/CONFIG.md (between its BEGIN generated and END generated lines). With --golden it also rewrites the
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

# The table of docs/CONFIG.md: the lines between the markers are replaced, the rest is kept.
config_doc=docs/CONFIG.md
table=$(mktemp)
trap 'rm -f "$table"' EXIT
"$repo/generator/generate" --config-table >"$table"
awk -v table="$table" '
  /^<!-- END generated/ { inside = 0 }
  !inside { print }
  /^<!-- BEGIN generated/ { inside = 1; while ((getline line < table) > 0) print line }
' "$config_doc" >"$config_doc.new"
mv "$config_doc.new" "$config_doc"
echo "wrote the table of $config_doc"
