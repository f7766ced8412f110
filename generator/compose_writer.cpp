#include "compose_writer.hpp"

#include "service_config.hpp"
#include "yaml_writer.hpp"

namespace gen {
namespace {

const char* const header =
    "# consult-db on Docker Compose, written by the generator (generator/): do not edit.\n"
    "# Regenerate with generator/regenerate.sh; docs/GENERATOR.md tells how.\n";

std::string image(const Values& values, const std::string& which) {
    return values.string("images." + which) + ":" + values.string("images.tag");
}

std::string seconds(const Values& values, const std::string& key) {
    return std::to_string(values.integer(key)) + "s";
}

YAML::Node healthcheck(const Values& values, const std::string& binary, const std::string& path) {
    YAML::Node check;
    // The images have no curl: each binary probes its own port with --probe.
    check["test"] = argv({"CMD", binary, "--probe", path});
    // Not the Kubernetes probes' period: the kubelet's HTTP probe is cheap, but each Compose check is a
    // docker exec (runc, ~0.13 s of CPU). Every 2 s, 21 containers took 1.4 of 2 cores and doubled an
    // N=20 launch (docs/BENCHMARKS.md).
    check["interval"] = text(seconds(values, "compose.healthcheckIntervalSeconds"));
    check["timeout"] = text(seconds(values, "probes.timeoutSeconds"));
    check["retries"] = values.integer("probes.failureThreshold");
    check["start_period"] = text(seconds(values, "probes.startPeriodSeconds"));
    return check;
}

// Appends what every service shares, after its own leading keys.
void add_common_fields(YAML::Node service, const Values& values, const std::string& binary,
                       const std::string& probe_path) {
    // init forwards SIGTERM and reaps children, so `docker stop` ends the container within the grace period.
    service["init"] = true;
    service["restart"] = text(values.string("compose.restart"));
    service["healthcheck"] = healthcheck(values, binary, probe_path);
    service["stop_grace_period"] = text(std::to_string(stop_grace_seconds(values)) + "s");
    service["cap_drop"].push_back(text("ALL"));
    service["security_opt"].push_back(text("no-new-privileges:true"));
    // Nothing writes outside /tmp: Redis's --dir (a replica's copy of the leader's snapshot) is there.
    service["read_only"] = true;
    service["tmpfs"].push_back(text("/tmp:size=" + values.string("compose.tmpfsSize")));
    // The Redis passwords, from a file outside the repository that the launcher creates
    // (docs/SECURITY.md): this file names it and never holds a secret.
    service["env_file"].push_back(text(values.string("compose.envFile")));
    service["networks"].push_back(text(values.string("compose.network")));
    // On an internal network Docker's DNS answers "no such name" (a stopped cluster's) after 10 s,
    // which a Redis connect waits out (measured on Docker 20.10); one try of 1 s instead.
    service["dns_opt"].push_back(text("timeout:1"));
    service["dns_opt"].push_back(text("attempts:1"));
}

YAML::Node with_variables(YAML::Node variables, const YAML::Node& config) {
    for (const auto& entry : environment_variables(config)) variables[entry.first] = entry.second;
    return variables;
}

// Cluster i is one container running redis-server and slave together (cluster-run), so stopping the
// container stops the cluster as a unit, and its Redis is reachable as slave-i:<redis port>.
YAML::Node slave_service(const Values& values, const YAML::Node& config, int index) {
    const std::string name = "slave-" + std::to_string(index);
    YAML::Node service;
    service["image"] = text(image(values, "slave"));
    service["hostname"] = text(name);
    service["command"] = argv({"cluster-run"});
    YAML::Node variables;
    variables["CLUSTER_INDEX"] = text(std::to_string(index));
    // Read by cluster-run for redis-server's --maxmemory; the services ignore it.
    variables["REDIS_MAXMEMORY"] = text(values.string("redis.maxmemory"));
    service["environment"] = with_variables(variables, config);
    add_common_fields(service, values, "slave", "/healthz");
    return service;
}

// No depends_on: the LB must start while any cluster is down, and it re-resolves the slave names
// itself; a dependency would also let `docker compose stop slave-i` touch the LB.
YAML::Node lb_service(const Values& values, const YAML::Node& config) {
    YAML::Node service;
    service["image"] = text(image(values, "lb"));
    service["environment"] = with_variables(YAML::Node(YAML::NodeType::Map), config);
    // The only published port of the deployment, on 127.0.0.1 unless the values say otherwise.
    service["ports"].push_back(text(values.string("lb.publish.address") + ":" +
                                    std::to_string(values.integer("lb.publish.port")) + ":" +
                                    std::to_string(values.integer("config.lb.port"))));
    add_common_fields(service, values, "lb", "/lb/healthz");
    // A published port needs a network with a way out; the clusters' network has none.
    service["networks"].push_back(text(values.string("compose.publishNetwork")));
    return service;
}

YAML::Node bridge_network(bool internal) {
    YAML::Node network;
    network["driver"] = text("bridge");
    if (internal) network["internal"] = true;
    return network;
}

}  // namespace

std::string write_compose(const Values& values, int replicas) {
    const YAML::Node config = service_config(values, "cluster.hostTemplate.compose", replicas);
    YAML::Node file;
    file["services"]["lb"] = lb_service(values, config);
    for (int index = 0; index < replicas; ++index) {
        file["services"]["slave-" + std::to_string(index)] = slave_service(values, config, index);
    }
    // Redis traffic stays on an internal network: no route to or from the host or the outside.
    file["networks"][values.string("compose.network")] = bridge_network(true);
    file["networks"][values.string("compose.publishNetwork")] = bridge_network(false);
    return header + to_yaml(file);
}

}  // namespace gen
