#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "cdb/config_schema.h"
#include "values.hpp"

// The services' configuration (docs/CONFIG.md) for one deployment. Both targets write the same
// fields, Compose as environment variables and Kubernetes as config.json, so they are built once.
namespace gen {

// Values under this prefix are the services' configuration fields: config.redis.port is redis.port.
inline const std::string config_prefix = "config.";

// What a cluster's stop takes besides the slave's hand-over (handover.timeout_ms): the slave's
// drain (at most 1 s) and its Redis's own stop.
inline constexpr long long stop_grace_margin_ms = 2000;

// The schema field that the value `key` sets, or nullptr when `key` is not a `config.*` value.
const cdb::ConfigField* service_field(const std::string& key);

// A tree of typed scalars: cluster.host_template from `host_template_key`, cluster.size = replicas,
// then every `config.*` value under its field name (config.redis.port -> redis.port).
YAML::Node service_config(const Values& values, const std::string& host_template_key, int replicas);

// The same without cluster.size: what a running service would need a restart to see. The slaves do
// not use the size and a running LB takes a new one from PUT /lb/size or from the names that resolve
// (docs/DEPLOY.md, "Scaling"), so a change of size alone must not restart anything.
YAML::Node fields_read_only_at_start(const YAML::Node& config);

// Seconds between SIGTERM and SIGKILL of every container: stopGraceSeconds, raised to what a
// cluster's stop takes with config.handover.timeout_ms (the hand-over, the drain, Redis's stop).
long long stop_grace_seconds(const Values& values);

// The fields as a map of environment variables with string values.
YAML::Node environment_variables(const YAML::Node& config);

// The fields as a JSON object (two-space indentation, no trailing newline).
std::string to_json(const YAML::Node& config);

}  // namespace gen
