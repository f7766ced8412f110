#!/usr/bin/env bash
# README's promise, checked: `make test` on a fresh Debian 12 installs everything it needs and passes.
# .ci/run runs it. In a bare container from the project's own debian:bookworm-slim base image
# (docker/base-image.sh builds it when no registry answers), as root, with only `make` added:
#   the repository's tracked files are copied in (as they are in the working tree), then `make test`,
#   which installs the build and test packages itself (scripts/deps.sh) from the Debian archive.
# Nothing from the host's build, caches or packages reaches the container (only the network's local
# certificate authorities, see below). Needs a Docker engine.
#   scripts/fresh-debian-test.sh        prints the container's output and "fresh make test took N s"
# FRESH_TIMEOUT_S bounds the run (default 1800 s); on timeout or interruption the container (and only
# it: its name is unique to this run) is removed. Exits with make test's status (124 on timeout).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
image=${BASE_IMAGE:-debian:bookworm-slim}
timeout_s=${FRESH_TIMEOUT_S:-1800}
name=consult-db-fresh-$$-$(date +%s)
say() { echo "fresh-debian: $*" >&2; }

"$repo/docker/base-image.sh"

remove_container() { docker rm -f "$name" >/dev/null 2>&1 || true; }
trap remove_container EXIT
trap 'exit 130' INT TERM

# Inside: make is the only thing a fresh machine may lack to type `make test`. Chromium (one test
# drives it) needs more than the 64 MB of /dev/shm Docker gives by default.
inside='set -e
export DEBIAN_FRONTEND=noninteractive
mkdir /src && tar -x -C /src
echo "== apt-get install make"
apt-get update -qq && apt-get install -y -qq --no-install-recommends make >/dev/null
cd /src
echo "== make test (as README says)"
make test'

# The host's local certificate authorities (/usr/local/share/ca-certificates): on a network that
# intercepts TLS, as CI's does, npm reaches its registry (the schema check's packages) only through
# them. They are the network's, not the project's: ca-certificates, once make test installs it, adds
# them to the container's store, and Node.js is told to use that store, as on the host.
ca_options=()
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  ca_options=(-v /usr/local/share/ca-certificates:/usr/local/share/ca-certificates:ro
              -e NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
fi

started=$(date +%s)
say "make test in a bare $image container ($name), at most ${timeout_s} s"
status=0
# The tracked files, from the working tree: what a clone of this commit holds, plus uncommitted edits.
(cd "$repo" && git ls-files -z | tar --null -T - -c) |
  timeout -k 30 "$timeout_s" docker run -i --name "$name" --shm-size 1g "${ca_options[@]}" "$image" bash -c "$inside" || status=$?
say "fresh make test took $(( $(date +%s) - started )) s (status $status)"
exit "$status"
