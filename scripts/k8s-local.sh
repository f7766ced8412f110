#!/usr/bin/env bash
# The Kubernetes cluster of CI (docs/DEPLOY.md, "Kubernetes end-to-end test"): a real single-node
# Kubernetes v1.26.5 (etcd, API server, controller-manager, scheduler, a kubelet on a containerd of its
# own, a small cluster DNS) from the shared k8s-local kit, for machines where kind cannot run (kind's
# node image must be pulled from a registry). Users run kind (make kind-up); this is CI's harness.
#   k8s-local.sh up               install the Debian packages it needs, copy the kit to a writable
#                                 place, unpack its binaries, start the cluster; prints KUBECONFIG
#   k8s-local.sh load-images IMG...   copy Docker images into the cluster's containerd
#   k8s-local.sh kubeconfig       the admin kubeconfig's path
#   k8s-local.sh down [--purge]   stop everything up started (--purge: its image store and certificates too)
#   k8s-local.sh kit              the kit's path; fails when this machine has none
# The kit is read-only ($K8S_LOCAL_SRC, else ../shared/k8s-local beside the repository, else
# /work/shared/k8s-local, where this project's machines keep it); its copy and
# state are in $K8S_LOCAL_DIR (default .run/k8s-local). The kit's up.sh/down.sh change only their own
# objects: two bridges, blackhole routes for the cluster ranges, the kubelet's iptables chains, sysctls
# it restores; Docker and its containerd are not touched.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
find_kit() {
  local candidate
  for candidate in ${K8S_LOCAL_SRC:+"$K8S_LOCAL_SRC"} "$repo/../shared/k8s-local" /work/shared/k8s-local; do
    [[ -f $candidate/up.sh && -f $candidate/bin.tar.xz ]] && { echo "$candidate"; return 0; }
  done
  return 1
}
src=$(find_kit || true)
dir=${K8S_LOCAL_DIR:-$repo/.run/k8s-local}
ctrd_sock=/run/k8s-local/containerd/containerd.sock   # the kit's up.sh
packages=(etcd-server containerd runc containernetworking-plugins iptables openssl curl gcc libc6-dev)

say() { echo "k8s-local: $*" >&2; }
die() { say "$*"; exit 1; }

install_packages() {
  local missing=() package
  for package in "${packages[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true) == "install ok installed" ]] ||
      missing+=("$package")
  done
  # kubectl: any on PATH (e.g. the Google Cloud SDK's), else Debian's
  command -v kubectl >/dev/null || missing+=(kubernetes-client)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq
  timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The kit's files, copied once (its up.sh writes certificates and configs beside itself); binaries
# unpacked once, again when the kit's archive changed.
prepare() {
  [[ -n $src ]] ||
    die "no k8s-local kit (K8S_LOCAL_SRC, ../shared/k8s-local beside the repository, /work/shared/k8s-local)"
  mkdir -p "$dir/bin"
  local file
  for file in up.sh down.sh; do install -m 0755 "$src/$file" "$dir/$file"; done
  mkdir -p "$dir/pause" && cp "$src/pause/"* "$dir/pause/"
  local stamp; stamp=$(stat -c '%s %Y' "$src/bin.tar.xz")
  if [[ $(cat "$dir/bin/.unpacked" 2>/dev/null) != "$stamp" ]]; then
    say "unpacking the Kubernetes binaries into $dir/bin"
    tar -xJf "$src/bin.tar.xz" -C "$dir/bin"
    echo "$stamp" >"$dir/bin/.unpacked"
  fi
}

case ${1:-} in
  up)
    [[ $(id -u) -eq 0 ]] || die "run as root (it starts a kubelet and changes the host's network)"
    install_packages
    prepare
    "$repo/scripts/ensure-docker.sh"   # the pause image is built with Docker, images come from it
    # No project image here: the test loads them itself (load-images), as it does into kind.
    K8S_LOCAL_BIN=$dir/bin K8S_LOCAL_IMAGES=" " timeout 300 "$dir/up.sh"
    echo "export KUBECONFIG=$dir/kubeconfig/admin.conf"
    ;;
  load-images)
    shift
    for image in "$@"; do
      say "loading $image into the cluster's containerd"
      docker save "$image" | timeout 300 ctr -a "$ctrd_sock" -n k8s.io images import - >/dev/null
    done
    ;;
  kubeconfig) echo "$dir/kubeconfig/admin.conf" ;;
  kit) [[ -n $src ]] && echo "$src" ;;
  down)
    [[ -x $dir/down.sh ]] || { say "nothing to stop ($dir/down.sh is absent)"; exit 0; }
    timeout 300 "$dir/down.sh" ${2:+"$2"}
    [[ ${2:-} != --purge ]] || rm -rf "$dir"
    ;;
  *) die "usage: $0 up | load-images IMAGE... | kubeconfig | kit | down [--purge]" ;;
esac
