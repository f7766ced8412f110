#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/apt-packages.txt (or in the list file given as the
# argument: bench/apt-packages.txt) that are missing. As root it runs apt-get; otherwise it prints
# the exact command to run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
list=${1:-$here/apt-packages.txt}
mapfile -t wanted < <(grep -v '^\s*#' "$list" | grep -v '^\s*$')

missing=()
for line in "${wanted[@]}"; do
  read -r package command _ <<<"$line"
  # "nodejs node": a node already on PATH (another vendor's build, whose package may conflict with
  # Debian's npm) stands for the package.
  [[ -n $command ]] && command -v "$command" >/dev/null && continue
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

command_line="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "Missing Debian packages. Run as root:" >&2
  echo "  apt-get update && $command_line" >&2
  exit 1
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$command_line
