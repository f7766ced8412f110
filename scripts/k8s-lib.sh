# shellcheck shell=bash
# The Kubernetes steps that kind-env.sh (make kind-up) and the Kubernetes end-to-end test
# (tests/e2e/k8s_e2e.sh) share: sourced, not run. The caller sets $repo, $run_dir (port-forward PID
# and log, generated manifests), $kube_context (empty: KUBECONFIG's current context) and
# $secrets_file (scripts/redis-secrets.sh), has sourced scripts/lb-client.sh, and calls
# load_kind_facts before anything that talks to the cluster.
# shellcheck disable=SC2154  # $repo, $run_dir, $kube_context and $secrets_file are the caller's

rollout_timeout=${ROLLOUT_TIMEOUT:-300s}

# What the generated manifests name and run, from the generator itself (`generate --target kind
# --facts`, shell-safe NAME=value lines) rather than copied from generator/values.yaml: sets
# $namespace, $auth_secret, $slave_statefulset, $lb_deployment, $lb_service, $lb_service_port and
# images (both, with their tag, for `kind load docker-image`).
load_kind_facts() {
  local facts name value slave_image="" lb_image=""
  facts=$("$repo/generator/generate" --target kind --facts) || return 1
  while IFS='=' read -r name value; do
    case $name in
      NAMESPACE) namespace=$value ;;
      REDIS_AUTH_SECRET) auth_secret=$value ;;
      SLAVE_STATEFULSET) slave_statefulset=$value ;;
      LB_DEPLOYMENT) lb_deployment=$value ;;
      LB_SERVICE) lb_service=$value ;;
      LB_SERVICE_PORT) lb_service_port=$value ;;
      SLAVE_IMAGE) slave_image=$value ;;
      LB_IMAGE) lb_image=$value ;;
    esac
  done <<<"$facts"
  images=("$slave_image" "$lb_image")
}

kubectl_any() { kubectl ${kube_context:+--context "$kube_context"} "$@"; }
kube() { kubectl_any --namespace "$namespace" "$@"; }
replicas() { kube get statefulset "$slave_statefulset" -o jsonpath='{.spec.replicas}' 2>/dev/null || true; }

# The namespace and the Secret of Redis passwords, from the secrets file, before any pod needs it.
# Idempotent: create a manifest without sending it, then apply it; the passwords go through a pipe.
apply_secret() {
  kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl_any apply -f - >/dev/null &&
    kube create secret generic "$auth_secret" --from-env-file="$secrets_file" --dry-run=client -o yaml |
    kube apply -f - >/dev/null
}

deploy() {  # size: the generated manifests for size clusters, applied (a first deployment or a rescale)
  "$repo/generator/generate" --target kind --replicas "$1" --output "$run_dir/consult-db.yaml" &&
    kube apply -f "$run_dir/consult-db.yaml"
}

# Until the StatefulSet and the Deployment are rolled out; on timeout, the pods and returns 1.
rollout() {
  if ! kube rollout status "statefulset/$slave_statefulset" --timeout="$rollout_timeout" ||
     ! kube rollout status "deployment/$lb_deployment" --timeout="$rollout_timeout"; then
    kube get pods -o wide >&2
    echo "the rollout did not finish within $rollout_timeout" >&2
    return 1
  fi
}

stop_port_forward() {
  local pid
  pid=$(cat "$run_dir/port-forward.pid" 2>/dev/null) || return 0
  # Only the kubectl this script started: the PID file could be stale after a reboot.
  if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == kubectl* ]]; then
    kill "$pid" 2>/dev/null || true
    # Until the port is free. It may be a former run's child: once gone it may stay a zombie (state Z).
    for _ in $(seq 20); do [[ $(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) =~ ^[^Z]$ ]] || break; sleep 0.1; done
  fi
  rm -f "$run_dir/port-forward.pid"
}

# start_port_forward PORT: kubectl port-forward to the LB Service's port from PORT on 127.0.0.1, until the port answers
# (at most 10 s); sets LB_URL. Returns 1 when the port is taken or kubectl does not listen.
start_port_forward() {
  stop_port_forward
  port_busy "$1" && { echo "port $1 is in use" >&2; return 1; }
  # kubectl itself, not the kube function: $! must be kubectl's PID, not a subshell's.
  kubectl ${kube_context:+--context "$kube_context"} --namespace "$namespace" port-forward "svc/$lb_service" "$1:$lb_service_port" \
    >"$run_dir/port-forward.log" 2>&1 &
  echo $! >"$run_dir/port-forward.pid"
  LB_URL=http://127.0.0.1:$1
  echo "$1" >"$run_dir/lb_port"
  for _ in $(seq 50); do port_busy "$1" && return 0; sleep 0.2; done
  cat "$run_dir/port-forward.log" >&2
  return 1
}
