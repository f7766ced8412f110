#!/usr/bin/env bash
# Makes sure the Dockerfile's base image (debian:bookworm-slim, or $BASE_IMAGE) exists locally.
# Present: nothing to do. Otherwise it is pulled; when no registry is reachable (air-gapped machines,
# CI here) it is built from the Debian archive that apt on this host already uses:
# `debootstrap --variant=minbase bookworm`, trimmed like the official slim image, then `docker import`.
# Building needs root and debootstrap (installed with apt when missing).
# The mirror is the first Debian archive URI of this host's apt sources, or $DEBIAN_MIRROR.
set -euo pipefail

image=${BASE_IMAGE:-debian:bookworm-slim}
pull_timeout_s=${BASE_PULL_TIMEOUT_S:-60}
say() { echo "base-image: $*" >&2; }

docker image inspect "$image" >/dev/null 2>&1 && exit 0
say "$image is not here; trying docker pull (at most ${pull_timeout_s}s)"
timeout "$pull_timeout_s" docker pull -q "$image" >/dev/null 2>&1 && exit 0

if [[ $image != debian:bookworm-slim ]]; then
  say "cannot pull $image, and only debian:bookworm-slim can be built locally"; exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  say "cannot pull $image. Build it as root with: sudo $0"; exit 1
fi
if ! command -v debootstrap >/dev/null; then
  command -v apt-get >/dev/null || { say "cannot pull $image, and debootstrap is missing"; exit 1; }
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
fi

# "URIs: A B" (deb822) and "deb [opts] URI suite ..." (one-line format) both name the archives.
apt_uris() {
  local file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*; do
    case $file in
      *.sources) sed -n 's/^URIs:[[:space:]]*//p' "$file" | tr ' ' '\n' ;;
      *.list) sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\([^[:space:]]\+\).*/\2/p' "$file" ;;
    esac 2>/dev/null || true  # a missing sources.list is normal with deb822 sources
  done
}
uris=$(apt_uris)
mirror=${DEBIAN_MIRROR:-$(grep -v -- '-security' <<<"$uris" | sed -n 1p || true)}
mirror=${mirror:-http://deb.debian.org/debian}
security=$(grep -- '-security' <<<"$uris" | sed -n 1p || true)

rootfs=$(mktemp -d /tmp/consult-db-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
say "building $image with debootstrap from $mirror (about a minute)"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
  { tail -n 20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"

# The same apt sources as the official image (updates and security when this host has them), and
# its dpkg exclusions, so that images built on it stay small: no docs, man pages or translations.
rm -f "$rootfs/etc/apt/sources.list"
{
  printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "$mirror"
  printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
  [[ -z $security ]] ||
    printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$security"
} >"$rootfs/etc/apt/sources.list.d/debian.sources"
printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
  'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
  'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
  >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"
find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
rm -rf "${rootfs:?}"/usr/share/{man,info}/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* \
  "$rootfs"/var/log/* "${rootfs:?}"/dev/* "$rootfs"/proc/* "$rootfs"/sys/* "$rootfs"/tmp/*
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +

# A plain import has no command: give it the official image's.
tar --numeric-owner -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - "$image" >/dev/null
say "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
