#!/usr/bin/env bash
# Kubernetes mode on kind (make kind-up SCALE=N [PORT=P], make kind-down):
#   kind-env.sh up N [LOCAL_PORT]   create the kind cluster when absent, load both images, deploy N
#                                   clusters, wait for the rollout, port-forward svc/lb to 127.0.0.1,
#                                   smoke request. On a running deployment it rescales in place.
#   kind-env.sh down                stop the port-forward and delete the kind cluster
# Needs kind, kubectl and Docker. The kind cluster is the one of k8s/kind-cluster.yaml (consult-db).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
run_dir=$repo/.run/kind
cluster=consult-db          # the name in k8s/kind-cluster.yaml
kube_context=kind-$cluster
ready_timeout_s=${READY_TIMEOUT_S:-120}
max_clusters=256

die() { echo "kind-env: $*" >&2; exit 1; }
# shellcheck source=scripts/lb-client.sh
source "$repo/scripts/lb-client.sh"
# shellcheck source=scripts/redis-secrets.sh
source "$repo/scripts/redis-secrets.sh"
# shellcheck source=scripts/k8s-lib.sh
source "$repo/scripts/k8s-lib.sh"   # load_kind_facts, kube, apply_secret, deploy, rollout, start/stop_port_forward

for tool in kind kubectl; do
  command -v "$tool" >/dev/null ||
    die "'$tool' is not installed; see https://kind.sigs.k8s.io/docs/user/quick-start/#installation and https://kubernetes.io/docs/tasks/tools/"
done
cluster_exists() { kind get clusters 2>/dev/null | grep -qx "$cluster"; }

# On a running deployment the manifests for the new size are applied: only the StatefulSet's replica
# count and the ConfigMap's cluster.size (what a restarted LB starts from) change, and the pods'
# checksum/config leaves the size out, so no pod restarts. New pods join by name; removed ones leave
# after the LB has moved the leader off them (the same order as Compose).
rescale() {  # size old_size
  local size=$1 old=$2
  echo "Rescaling from $old to $size clusters..."
  if (( size >= old )); then
    deploy "$size" || die "kubectl apply failed"
    rollout || die "the rollout did not finish"
    set_lb_size "$size" 30 || die "the load balancer does not accept PUT /lb/size"
  else
    set_lb_size "$size" 30 || die "the load balancer does not accept PUT /lb/size"
    wait_drained "$size" "$old" "$ready_timeout_s" || die "clusters $size..$(( old - 1 )) not drained"
    deploy "$size" || die "kubectl apply failed"
  fi
}

smoke_request() {
  curl -sf --max-time 5 -X POST "$LB_URL/set" -H 'Content-Type: application/json' \
      -d '{"key":"kind-smoke","value":"ok"}' >/dev/null &&
    curl -sf --max-time 5 "$LB_URL/get/kind-smoke" | grep -q '"value":"ok"'
}

kind_up() {
  local size=$1 port=${2:-8080} old
  if [[ ! $size =~ ^[0-9]+$ ]] || (( size < 1 || size > max_clusters )); then
    die "N must be between 1 and $max_clusters"
  fi
  mkdir -p "$run_dir"
  load_kind_facts || die "generator/generate --target kind --facts failed"
  ensure_secrets
  "$repo/docker/build-images.sh"
  if ! cluster_exists; then
    echo "Creating the kind cluster '$cluster' (k8s/kind-cluster.yaml)..."
    kind create cluster --config "$repo/k8s/kind-cluster.yaml" --wait 120s
  fi
  # kind nodes cannot pull local images: they are copied in (imagePullPolicy is IfNotPresent).
  kind load docker-image "${images[@]}" --name "$cluster"
  apply_secret || die "cannot create the namespace $namespace and the Secret $auth_secret"
  old=$(replicas)
  if [[ -n $old ]]; then
    start_port_forward "$port" || die "cannot port-forward to 127.0.0.1:$port (./launch-env down, or choose another: make kind-up PORT=P)"
    rescale "$size" "$old"
  else
    echo "Deploying $size clusters to namespace $namespace..."
    deploy "$size" || die "kubectl apply failed"
    rollout || die "the rollout did not finish"
    start_port_forward "$port" || die "cannot port-forward to 127.0.0.1:$port (./launch-env down, or choose another: make kind-up PORT=P)"
  fi
  wait_ready "$size" "$ready_timeout_s" ||
    { kube get pods -o wide >&2; die "not ready after ${ready_timeout_s}s (port-forward log: $run_dir/port-forward.log)"; }
  smoke_request || die "the smoke request (set, then get) through $LB_URL failed"
  print_ready "Smoke request passed. Scale: kubectl -n $namespace scale statefulset $slave_statefulset --replicas=M (or make kind-up SCALE=M)    Stop: make kind-down"
}

kind_down() {
  stop_port_forward
  if cluster_exists; then kind delete cluster --name "$cluster"; else echo "No kind cluster '$cluster'."; fi
  rm -rf "$run_dir"
}

case ${1:-} in
  up) [[ $# -ge 2 ]] || die "usage: $0 up N [LOCAL_PORT]"; kind_up "$2" "${3:-}" ;;
  down) kind_down ;;
  *) die "usage: $0 up N [LOCAL_PORT] | down" ;;
esac
