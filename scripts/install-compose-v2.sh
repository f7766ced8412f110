#!/usr/bin/env bash
# Optional: installs the Docker Compose v2 plugin (`docker compose`) on Debian 12, which packages only
# Compose v1 (docker-compose 1.29). Nothing else needs it: the launcher and the tests work with either.
# `make compose-v2` runs it; .ci/run runs it so that CI tests both versions.
#   scripts/install-compose-v2.sh
# It takes Debian 13's docker-compose package (2.26.1, one static Go binary) through a throwaway apt
# configuration in a temporary directory: the system's apt sources, lists and cache are not touched.
# The archive is the one this host's apt already uses. It installs only the plugin file:
#   /usr/libexec/docker/cli-plugins/docker-compose
# Nothing to do when `docker compose version` already answers. Needs root, apt-get and dpkg-deb.
set -euo pipefail

version=${COMPOSE_V2_VERSION:-2.26.1-4}
suite=${COMPOSE_V2_SUITE:-trixie}
plugin=/usr/libexec/docker/cli-plugins/docker-compose
say() { echo "compose-v2: $*" >&2; }

if docker compose version >/dev/null 2>&1; then
  say "already installed: $(docker compose version)"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || { say "run as root (it writes $plugin)"; exit 1; }

# The first Debian archive of this host's apt sources (deb822 or one-line format), else deb.debian.org.
mirror=${DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p' |
    tr ' ' '\n' | grep -v -- '-security' | sed -n 1p || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/extract"
echo "deb $mirror $suite main" >"$work/sources.list"
apt_options=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Acquire::http::Timeout=30"
  -o "Acquire::Retries=2" -o "APT::Sandbox::User=root")
say "fetching docker-compose $version from $mirror ($suite) with a temporary apt configuration"
timeout 300 apt-get "${apt_options[@]}" update -qq ||
  { say "apt-get update of the temporary configuration failed"; exit 1; }
(cd "$work" && timeout 300 apt-get "${apt_options[@]}" download "docker-compose=$version" >/dev/null) ||
  { say "apt-get download docker-compose=$version failed"; exit 1; }
dpkg-deb -x "$work"/docker-compose_*.deb "$work/extract"
install -D -m 0755 "$work/extract$plugin" "$plugin"
docker compose version >/dev/null || { say "$plugin does not run"; exit 1; }
say "installed $plugin: $(docker compose version)"
