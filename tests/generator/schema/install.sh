#!/usr/bin/env bash
# Installs the schema check's npm packages (package-lock.json, exact versions) into DIR/node_modules
# with `npm ci`, unless DIR already holds this very lock file's packages. CTest runs it as the
# fixture of the schema tests; it needs node, npm and the npm registry.
# Usage: install.sh DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
target=${1:?usage: install.sh DIR}

for tool in node npm; do
  if ! command -v "$tool" > /dev/null; then
    echo "schema check: $tool is not installed; install Node.js 18 or later with npm to run it" >&2
    exit 1
  fi
done

mkdir -p "$target"
if [[ -d $target/node_modules ]] && cmp -s "$here/package-lock.json" "$target/installed-package-lock.json"; then
  echo "schema check: packages already installed in $target/node_modules"
  exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$target/"
# --ignore-scripts: nothing from the registry runs here; the packages need no build step.
(cd "$target" && npm ci --ignore-scripts --no-audit --no-fund)
cp "$here/package-lock.json" "$target/installed-package-lock.json"
