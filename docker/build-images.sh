#!/usr/bin/env bash
# Builds consult-db-slave:latest and consult-db-lb:latest from the Dockerfile when they are missing or
# stale (`make images`; also called by the Compose and kind modes). Usage: docker/build-images.sh [--force]
# An image is stale when its label org.consult-db.source-hash differs from the hash of what the
# binaries and images are made of: services/, docker/, the Dockerfile, .dockerignore and every
# CMakeLists.txt (docs or tests changes need no new image).
# Uses the classic builder: BuildKit needs buildx, which Debian's docker.io lacks.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
images=(consult-db-slave consult-db-lb)  # also the Dockerfile's stage names
tag=latest
label=org.consult-db.source-hash
log="$repo/.run/images-build.log"
force=false
[[ ${1:-} == --force ]] && force=true

"$repo/scripts/ensure-docker.sh"
"$repo/docker/base-image.sh"

cd "$repo"
hash=$(find . \( -path ./.git -o -path './build*' -o -path ./.run -o -name node_modules \) -prune -o -type f \
    \( -path './services/*' -o -path './docker/*' -o -name CMakeLists.txt -o -path ./Dockerfile \
       -o -path ./.dockerignore \) -print0 |
  LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)

stale=()
for image in "${images[@]}"; do
  current=$(docker image inspect -f "{{ index .Config.Labels \"$label\" }}" "$image:$tag" 2>/dev/null || true)
  if $force || [[ $current != "$hash" ]]; then stale+=("$image"); fi
done
[[ ${#stale[@]} -eq 0 ]] && exit 0

mkdir -p "$(dirname "$log")"
: >"$log"
started=$(date +%s)
echo "Building ${stale[*]} (the first build takes a few minutes; log: ${log#"$repo"/})"
for image in "${stale[@]}"; do
  echo "  $image:$tag"
  # Only the step lines on the terminal, as progress; everything in the log.
  if ! DOCKER_BUILDKIT=0 docker build --force-rm --target "$image" --tag "$image:$tag" --label "$label=$hash" . 2>&1 |
      tee -a "$log" | grep --line-buffered '^Step ' | sed -u 's/^/    /'; then
    echo "build-images: building $image failed; last lines of ${log#"$repo"/}:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
done
# Untagged leftovers of earlier builds: the images this build replaced (kept while a container still
# uses them) and every builder stage but the newest, which is the next build's cache (~600 MB each).
mapfile -t leftovers < <(
  docker images -q --filter dangling=true --filter "label=$label"
  docker images -q --filter dangling=true --filter label=org.consult-db.stage=builder | tail -n +2)
[[ ${#leftovers[@]} -eq 0 ]] || docker rmi "${leftovers[@]}" >/dev/null 2>&1 || true
echo "Images built in $(( $(date +%s) - started )) s: $(for image in "${stale[@]}"; do
  docker image inspect -f "$image {{ .Size }}" "$image:$tag"; done | awk '{printf "%s%s %.0f MB", sep, $1, $2/1e6; sep=", "}')"
