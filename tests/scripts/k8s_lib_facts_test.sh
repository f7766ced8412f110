#!/usr/bin/env bash
# scripts/k8s-lib.sh's load_kind_facts, as kind-env.sh and tests/e2e/k8s_e2e.sh use it: the names,
# port and images the launchers address come from `generator/generate --target kind --facts`, the
# same as the generated manifests. BUILD_DIR names the build with the generator (ctest sets it).
# Prints "N passed, M failed"; exits 1 on any failure.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
check() {  # description command...
  local description=$1; shift
  if "$@"; then passed=$(( passed + 1 )); echo "  ok    $description"
  else failed=$(( failed + 1 )); echo "  FAIL  $description"; fi
}

# shellcheck source=scripts/k8s-lib.sh
source "$repo/scripts/k8s-lib.sh"
check "load_kind_facts succeeds" load_kind_facts
manifests=$("$repo/generator/generate" --target kind --replicas 1)
# in_manifests LINE: the generated manifests have LINE (its leading spaces aside).
in_manifests() { grep -qxE "[[:space:]-]*$1" <<<"$manifests"; }

check "the namespace is the manifests' ($namespace)" in_manifests "namespace: $namespace"
check "the Secret is the one the pods read ($auth_secret)" in_manifests "name: $auth_secret"
workloads_named() {  # the StatefulSet and the Deployment carry the names of the facts
  grep -A2 -xE "kind: (StatefulSet|Deployment)" <<<"$manifests" |
    grep -c -xE " +name: ($slave_statefulset|$lb_deployment)" | grep -qx 2
}
both_images_used() { [[ ${#images[@]} == 2 ]] && in_manifests "image: ${images[0]}" && in_manifests "image: ${images[1]}"; }
check "the StatefulSet ($slave_statefulset) and the Deployment ($lb_deployment) exist" workloads_named
check "the Service $lb_service has port $lb_service_port" in_manifests "port: $lb_service_port"
check "two images, both in the manifests (${images[*]})" both_images_used
check "the defaults of generator/values.yaml, which the script used to copy" \
  [ "$namespace $auth_secret $lb_service_port ${images[*]}" == \
    "consult-db consult-db-redis-auth 80 consult-db-slave:latest consult-db-lb:latest" ]

echo "$passed passed, $failed failed"
(( failed == 0 ))
