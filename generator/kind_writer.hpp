#pragma once

#include <string>

#include "values.hpp"

namespace gen {

// The Kubernetes manifests (one multi-document YAML file) of a deployment with `replicas` clusters:
// Namespace, ConfigMap, headless Service and StatefulSet slave, its PodDisruptionBudget and
// NetworkPolicy, Deployment and Service lb. Written for kind, valid for any cluster.
std::string write_kind(const Values& values, int replicas);

}  // namespace gen
