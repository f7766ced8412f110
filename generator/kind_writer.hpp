#pragma once

#include <string>

#include "values.hpp"

namespace gen {

// Names of the objects that the launchers address (kubectl rollout, scale, port-forward): written
// into the manifests and printed by `generator --facts`.
inline const std::string slave_stateful_set_name = "slave";
inline const std::string lb_deployment_name = "lb";
inline const std::string lb_service_name = "lb";

// The Kubernetes manifests (one multi-document YAML file) of a deployment with `replicas` clusters:
// Namespace, ConfigMap, headless Service and StatefulSet slave, its PodDisruptionBudget and
// NetworkPolicy, Deployment and Service lb. Written for kind, valid for any cluster.
std::string write_kind(const Values& values, int replicas);

}  // namespace gen
