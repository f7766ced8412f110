#!/usr/bin/env bash
# Makes a Docker engine usable for this project's images and Compose mode.
#   scripts/ensure-docker.sh [--pid-file FILE]
# If `docker info` answers, there is nothing to do. Otherwise, on Debian as root, it installs docker.io
# and docker-compose with apt when missing, starts dockerd in the background (log: $DOCKERD_LOG) and
# waits for it. Only when it starts dockerd does it write dockerd's PID to FILE, so that a caller (CI)
# stops the engine it caused to run and never one that was already there. Elsewhere it prints what to
# do and exits 1.
set -euo pipefail

dockerd_log=${DOCKERD_LOG:-/var/log/consult-db-dockerd.log}
start_timeout_s=${DOCKERD_START_TIMEOUT_S:-60}
pid_file=""
case ${1:-} in
  "") ;;
  --pid-file) [[ $# -eq 2 ]] || { echo "usage: $0 [--pid-file FILE]" >&2; exit 2; }; pid_file=$2 ;;
  *) echo "usage: $0 [--pid-file FILE]" >&2; exit 2 ;;
esac

say() { echo "ensure-docker: $*" >&2; }
engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

command -v docker >/dev/null && engine_answers && exit 0

if [[ $(id -u) -ne 0 || ! -f /etc/debian_version ]]; then
  say "no usable Docker engine ('docker info' fails)."
  cat >&2 <<'EOT'
Install Docker and start it, then run this again:
  - Debian/Ubuntu, as root:  apt-get update && apt-get install -y docker.io docker-compose
                             systemctl start docker   (or, without systemd: dockerd >/var/log/dockerd.log 2>&1 &)
  - other systems:           https://docs.docker.com/engine/install/ (Docker Desktop on macOS/Windows)
  - as a non-root user:      ask for membership of the 'docker' group (then log in again),
                             or run the command as root.
EOT
  exit 1
fi

missing=()
for package in docker.io docker-compose; do
  [[ $(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true) == "install ok installed" ]] ||
    missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package's own service may have started the engine (on machines with systemd).
  engine_answers && exit 0
fi

# A killed dockerd leaves its PID file behind, and the next dockerd refuses to start ("pid file
# found"). The file is stale when no dockerd has that PID (a zombie, state Z, counts as none); a
# live one is an engine still starting.
dockerd_alive() {
  [[ -n $1 && $(cat "/proc/$1/comm" 2>/dev/null) == dockerd && $(cut -d' ' -f3 "/proc/$1/stat") != Z ]]
}
started_pid=""
running_pid=$(cat /var/run/docker.pid 2>/dev/null || true)
if dockerd_alive "$running_pid"; then
  say "dockerd (PID $running_pid) is running but does not answer yet; waiting for it"
else
  rm -f /var/run/docker.pid
  say "starting dockerd in the background (log: $dockerd_log)"
  mkdir -p "$(dirname "$dockerd_log")"
  # setsid: the engine outlives this script and the terminal or CI step that ran it. It gets no
  # descriptor of ours but 0-2: one it inherited would stay open as long as it runs, e.g. the lock
  # of `flock /tmp/consult-db-docker.lock ...`, which then no one else could take until it stops.
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      (( fd > 2 )) && eval "exec $fd>&-"
    done
    exec setsid dockerd >>"$dockerd_log" 2>&1 </dev/null
  ) &
  started_pid=$!
fi

deadline=$(( $(date +%s) + start_timeout_s ))
until engine_answers; do
  if [[ -n $started_pid ]] && ! kill -0 "$started_pid" 2>/dev/null; then
    say "dockerd exited; last lines of $dockerd_log:"; tail -n 20 "$dockerd_log" >&2; exit 1
  fi
  (( $(date +%s) < deadline )) || { say "dockerd did not answer within ${start_timeout_s}s (log: $dockerd_log)"; exit 1; }
  sleep 0.5
done

if [[ -n $started_pid ]]; then
  say "dockerd is running as PID $started_pid; stop it with: kill $started_pid"
  [[ -z $pid_file ]] || echo "$started_pid" >"$pid_file"
fi
