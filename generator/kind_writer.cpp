#include "kind_writer.hpp"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "service_config.hpp"
#include "yaml_writer.hpp"

namespace gen {
namespace {

const char* const header =
    "# consult-db on Kubernetes (kind), written by the generator (generator/): do not edit.\n"
    "# Regenerate with generator/regenerate.sh; apply with kubectl apply -f <this file>.\n";

const std::string app_name = "consult-db";
const std::string config_map_name = "consult-db-config";
const std::string config_dir = "/etc/consult-db";
const std::string config_file_name = "config.json";
// The user the images are built for; runAsNonRoot needs a numeric user to check.
const int service_user = 10001;

struct Deployment {
    const Values& values;
    int replicas;
    std::string config_json;
    // The pod templates' checksum/config: of every field but cluster.size, so that applying a changed
    // configuration rolls the pods that read it at start, and applying another size restarts none.
    std::string config_checksum;
};

// FNV-1a: a stable digest for the pod template annotation.
std::string checksum(const std::string& content) {
    std::uint64_t hash = 14695981039346656037ull;
    for (const unsigned char byte : content) {
        hash ^= byte;
        hash *= 1099511628211ull;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
    return hex;
}

YAML::Node selector_labels(const Deployment& deployment, const std::string& component) {
    YAML::Node labels;
    labels["app.kubernetes.io/name"] = text(app_name);
    labels["app.kubernetes.io/instance"] = text(deployment.values.string("kind.instance"));
    if (!component.empty()) labels["app.kubernetes.io/component"] = text(component);
    return labels;
}

YAML::Node labels(const Deployment& deployment, const std::string& component) {
    YAML::Node all = selector_labels(deployment, component);
    all["app.kubernetes.io/part-of"] = text(app_name);
    all["app.kubernetes.io/managed-by"] = text("consult-db-generator");
    return all;
}

YAML::Node object(const Deployment& deployment, const std::string& api_version, const std::string& kind,
                  const std::string& name, const std::string& component) {
    YAML::Node resource;
    resource["apiVersion"] = text(api_version);
    resource["kind"] = text(kind);
    resource["metadata"]["name"] = text(name);
    if (kind != "Namespace") resource["metadata"]["namespace"] = text(deployment.values.string("kind.namespace"));
    resource["metadata"]["labels"] = labels(deployment, component);
    return resource;
}

YAML::Node match_labels(const Deployment& deployment, const std::string& component) {
    YAML::Node selector;
    selector["matchLabels"] = selector_labels(deployment, component);
    return selector;
}

YAML::Node named_value(const std::string& name, const std::string& value) {
    YAML::Node variable;
    variable["name"] = text(name);
    variable["value"] = text(value);
    return variable;
}

// A secret (a Redis password, the control-plane key, the admin token) from the Secret that
// `make kind-up` creates (docs/SECURITY.md); the key is the variable's name, as in the secrets file
// it is created from.
YAML::Node secret_value(const Deployment& deployment, const std::string& name) {
    YAML::Node variable;
    variable["name"] = text(name);
    variable["valueFrom"]["secretKeyRef"]["name"] = text(deployment.values.string("kind.redisAuthSecret"));
    variable["valueFrom"]["secretKeyRef"]["key"] = text(name);
    return variable;
}

YAML::Node container_port(const std::string& name, int port) {
    YAML::Node entry;
    entry["name"] = text(name);
    entry["containerPort"] = port;
    entry["protocol"] = text("TCP");
    return entry;
}

YAML::Node service_port(const std::string& name, int port) {
    YAML::Node entry;
    entry["name"] = text(name);
    entry["port"] = port;
    entry["targetPort"] = text(name);
    entry["protocol"] = text("TCP");
    return entry;
}

YAML::Node volume_mount(const std::string& name, const std::string& path, bool read_only) {
    YAML::Node mount;
    mount["name"] = text(name);
    mount["mountPath"] = text(path);
    if (read_only) mount["readOnly"] = true;
    return mount;
}

YAML::Node empty_dir_volume(const std::string& name) {
    YAML::Node volume;
    volume["name"] = text(name);
    volume["emptyDir"] = empty_map();
    return volume;
}

YAML::Node config_volume() {
    YAML::Node volume;
    volume["name"] = text("config");
    volume["configMap"]["name"] = text(config_map_name);
    return volume;
}

// `action` is httpGet or tcpSocket on a named container port; timing comes from the probes values.
YAML::Node probe(const Deployment& deployment, const YAML::Node& action, int initial_delay_seconds) {
    const Values& values = deployment.values;
    YAML::Node check = YAML::Clone(action);
    if (initial_delay_seconds > 0) check["initialDelaySeconds"] = initial_delay_seconds;
    check["periodSeconds"] = values.integer("probes.periodSeconds");
    check["timeoutSeconds"] = values.integer("probes.timeoutSeconds");
    check["failureThreshold"] = values.integer("probes.failureThreshold");
    return check;
}

YAML::Node http_get(const std::string& path, const std::string& port_name) {
    YAML::Node action;
    action["httpGet"]["path"] = text(path);
    action["httpGet"]["port"] = text(port_name);
    return action;
}

YAML::Node tcp_socket(const std::string& port_name) {
    YAML::Node action;
    action["tcpSocket"]["port"] = text(port_name);
    return action;
}

// Readiness gates traffic from the start; liveness waits for startPeriodSeconds before it may restart.
void add_probes(YAML::Node container, const Deployment& deployment, const YAML::Node& readiness,
                const YAML::Node& liveness) {
    container["readinessProbe"] = probe(deployment, readiness, 0);
    container["livenessProbe"] = probe(deployment, liveness, deployment.values.integer("probes.startPeriodSeconds"));
}

YAML::Node resources(const Deployment& deployment, const std::string& container) {
    YAML::Node requirements;
    for (const char* bound : {"requests", "limits"}) {
        for (const char* resource : {"cpu", "memory"}) {
            const std::string key = "resources." + container + "." + bound + "." + resource;
            requirements[bound][resource] = text(deployment.values.string(key));
        }
    }
    return requirements;
}

YAML::Node container_security_context() {
    YAML::Node context;
    context["allowPrivilegeEscalation"] = false;
    context["readOnlyRootFilesystem"] = true;
    context["capabilities"]["drop"].push_back(text("ALL"));
    return context;
}

YAML::Node pod_security_context() {
    YAML::Node context;
    context["runAsNonRoot"] = true;
    context["runAsUser"] = service_user;
    context["runAsGroup"] = service_user;
    context["fsGroup"] = service_user;
    context["seccompProfile"]["type"] = text("RuntimeDefault");
    return context;
}

// What every container shares; the caller adds args, env, ports, probes and mounts.
YAML::Node container(const Deployment& deployment, const std::string& name, const std::string& image,
                     const std::string& command) {
    const Values& values = deployment.values;
    YAML::Node entry;
    entry["name"] = text(name);
    entry["image"] = text(values.string("images." + image) + ":" + values.string("images.tag"));
    entry["imagePullPolicy"] = text(values.string("images.pullPolicy"));
    entry["command"] = argv({command});
    entry["resources"] = resources(deployment, name);
    entry["securityContext"] = container_security_context();
    return entry;
}

YAML::Node config_file_env() { return named_value("CONFIG_FILE", config_dir + "/" + config_file_name); }

YAML::Node slave_container(const Deployment& deployment) {
    YAML::Node entry = container(deployment, "slave", "slave", "/usr/local/bin/slave");
    entry["env"].push_back(config_file_env());
    // Pods of a StatefulSet are named slave-<ordinal>: the slave takes its cluster index from that.
    entry["env"].push_back(named_value("CLUSTER_INDEX", "hostname"));
    entry["env"].push_back(secret_value(deployment, "REDIS_DATA_PASSWORD"));
    entry["env"].push_back(secret_value(deployment, "CONTROL_PLANE_KEY"));
    // A stopping slave asks the LB to move the leadership off its cluster (docs/PROTOCOL.md §10)
    // through the Service lb, whose port is not the LB's container port.
    if (deployment.values.integer("config.handover.lb_port") == 0) {
        entry["env"].push_back(named_value("HANDOVER_LB_PORT", std::to_string(deployment.values.integer("lb.servicePort"))));
    }
    entry["ports"].push_back(container_port("http", deployment.values.integer("config.slave.port")));
    add_probes(entry, deployment, http_get("/readyz", "http"), http_get("/healthz", "http"));
    entry["volumeMounts"].push_back(volume_mount("config", config_dir, true));
    entry["volumeMounts"].push_back(volume_mount("tmp", "/tmp", false));
    return entry;
}

YAML::Node redis_container(const Deployment& deployment) {
    const Values& values = deployment.values;
    YAML::Node entry = container(deployment, "redis", "slave", "/usr/local/bin/redis-run");
    // No persistence: a cluster's data lives in memory and is protected by replication. --dir is the
    // writable emptyDir where a replica stores the leader's snapshot during a full resync.
    // --repl-diskless-sync-delay 0: a new follower syncs at once (Redis 7 waits 5 s by default), which
    // a failover's catch-up and a scale-up wait for. --replicaof 127.0.0.1 1, a master that never
    // exists: a restarted, empty Redis must never be a master its peers resync from; only the LB
    // promotes one (docs/ELECTION.md). The same flags as cluster-run on Compose. redis-run adds the
    // ACL users from the three passwords (docs/SECURITY.md).
    entry["args"] = argv({"--port", std::to_string(values.integer("config.redis.port")), "--dir", "/data", "--save", "",
                          "--appendonly", "no", "--repl-diskless-sync-delay", "0", "--replicaof", "127.0.0.1", "1",
                          "--maxmemory", values.string("redis.maxmemory"), "--maxmemory-policy", "noeviction"});
    for (const char* password : {"REDIS_DATA_PASSWORD", "REDIS_COORDINATOR_PASSWORD", "REDIS_REPLICATION_PASSWORD"}) {
        entry["env"].push_back(secret_value(deployment, password));
    }
    entry["ports"].push_back(container_port("redis", values.integer("config.redis.port")));
    add_probes(entry, deployment, tcp_socket("redis"), tcp_socket("redis"));
    // Both containers get their stop at once, but the slave's hand-over of the leadership needs
    // this Redis: it stops once the slave says the hand-over is done or has exited, within the
    // hand-over's bound plus the drain (terminationGracePeriodSeconds covers it: stop_grace_seconds).
    const long long wait_seconds = (values.integer("config.handover.timeout_ms") + 999) / 1000 + 1;
    entry["lifecycle"]["preStop"]["exec"]["command"] =
        argv({"/usr/local/bin/await-handover", std::to_string(values.integer("config.slave.port")),
              std::to_string(wait_seconds)});
    entry["volumeMounts"].push_back(volume_mount("redis-data", "/data", false));
    return entry;
}

YAML::Node lb_container(const Deployment& deployment) {
    YAML::Node entry = container(deployment, "lb", "lb", "/usr/local/bin/lb");
    entry["env"].push_back(config_file_env());
    entry["env"].push_back(secret_value(deployment, "REDIS_COORDINATOR_PASSWORD"));
    entry["env"].push_back(secret_value(deployment, "CONTROL_PLANE_KEY"));
    entry["env"].push_back(secret_value(deployment, "ADMIN_TOKEN"));
    entry["ports"].push_back(container_port("http", deployment.values.integer("config.lb.port")));
    // The LB stays healthy while clusters are down, so one probe serves both purposes.
    add_probes(entry, deployment, http_get("/lb/healthz", "http"), http_get("/lb/healthz", "http"));
    entry["volumeMounts"].push_back(volume_mount("config", config_dir, true));
    entry["volumeMounts"].push_back(volume_mount("tmp", "/tmp", false));
    return entry;
}

YAML::Node pod_template(const Deployment& deployment, const std::string& component, const YAML::Node& containers,
                        const YAML::Node& volumes) {
    YAML::Node pod;
    pod["metadata"]["labels"] = labels(deployment, component);
    pod["metadata"]["annotations"]["checksum/config"] = text(deployment.config_checksum);
    YAML::Node spec = pod["spec"];
    // Service links would inject LB_PORT=tcp://... for the Service lb, which the services read as
    // their lb.port field; nothing here needs them.
    spec["enableServiceLinks"] = false;
    spec["automountServiceAccountToken"] = false;
    spec["terminationGracePeriodSeconds"] = stop_grace_seconds(deployment.values);
    spec["securityContext"] = pod_security_context();
    spec["containers"] = containers;
    spec["volumes"] = volumes;
    return pod;
}

YAML::Node namespace_object(const Deployment& deployment) {
    const std::string name = deployment.values.string("kind.namespace");
    return object(deployment, "v1", "Namespace", name, "");
}

YAML::Node config_map(const Deployment& deployment) {
    YAML::Node map = object(deployment, "v1", "ConfigMap", config_map_name, "config");
    map["data"][config_file_name] = text(deployment.config_json);
    return map;
}

// Gives pod slave-i the name slave-i.slave; publishNotReadyAddresses makes the names resolve before
// the pods are ready, which the slaves need to find each other's Redis while they start.
YAML::Node slave_headless_service(const Deployment& deployment) {
    const Values& values = deployment.values;
    YAML::Node service = object(deployment, "v1", "Service", "slave", "slave");
    service["spec"]["clusterIP"] = text("None");
    service["spec"]["publishNotReadyAddresses"] = true;
    service["spec"]["selector"] = selector_labels(deployment, "slave");
    service["spec"]["ports"].push_back(service_port("http", values.integer("config.slave.port")));
    service["spec"]["ports"].push_back(service_port("redis", values.integer("config.redis.port")));
    return service;
}

// One cluster per node while there are nodes enough, so that losing a node takes as few clusters as
// possible. A preference (ScheduleAnyway), not a rule: on a single node (kind) or with more clusters
// than nodes every pod is still scheduled, and a replaced pod never waits for a node that is gone.
YAML::Node spread_over_nodes(const Deployment& deployment, const std::string& component) {
    YAML::Node constraint;
    constraint["maxSkew"] = 1;
    constraint["topologyKey"] = text("kubernetes.io/hostname");
    constraint["whenUnsatisfiable"] = text("ScheduleAnyway");
    constraint["labelSelector"] = match_labels(deployment, component);
    return constraint;
}

YAML::Node slave_stateful_set(const Deployment& deployment) {
    YAML::Node set = object(deployment, "apps/v1", "StatefulSet", slave_stateful_set_name, "slave");
    YAML::Node spec = set["spec"];
    spec["serviceName"] = text("slave");
    spec["replicas"] = deployment.replicas;
    // Clusters are peers: start and replace them all at once rather than one after another.
    spec["podManagementPolicy"] = text("Parallel");
    spec["selector"] = match_labels(deployment, "slave");
    YAML::Node containers;
    containers.push_back(slave_container(deployment));
    containers.push_back(redis_container(deployment));
    YAML::Node volumes;
    volumes.push_back(config_volume());
    volumes.push_back(empty_dir_volume("tmp"));
    volumes.push_back(empty_dir_volume("redis-data"));
    spec["template"] = pod_template(deployment, "slave", containers, volumes);
    spec["template"]["spec"]["topologySpreadConstraints"].push_back(spread_over_nodes(deployment, "slave"));
    return set;
}

// Voluntary disruptions (node drains) take one cluster at a time: with sync replication that loses
// no acknowledged write.
YAML::Node slave_disruption_budget(const Deployment& deployment) {
    YAML::Node budget = object(deployment, "policy/v1", "PodDisruptionBudget", "slave", "slave");
    budget["spec"]["maxUnavailable"] = 1;
    budget["spec"]["selector"] = match_labels(deployment, "slave");
    return budget;
}

YAML::Node pod_peer(const Deployment& deployment, const std::string& component) {
    YAML::Node peer;
    peer["podSelector"] = match_labels(deployment, component);
    return peer;
}

YAML::Node policy_port(const std::string& name) {
    YAML::Node port;
    port["protocol"] = text("TCP");
    port["port"] = text(name);
    return port;
}

// On top of Redis's own ACL users: only slave pods (replication, data) and the lb pod (election) may
// reach it. On top of the LB's proof on control messages: only the lb pod may reach the slaves' HTTP
// port (docs/SECURITY.md). The kubelet's probes still pass: traffic from a pod's own node is always
// allowed by a NetworkPolicy.
YAML::Node redis_network_policy(const Deployment& deployment) {
    YAML::Node policy = object(deployment, "networking.k8s.io/v1", "NetworkPolicy", "slave-redis", "slave");
    YAML::Node spec = policy["spec"];
    spec["podSelector"] = match_labels(deployment, "slave");
    spec["policyTypes"].push_back(text("Ingress"));
    YAML::Node redis_rule;
    redis_rule["from"].push_back(pod_peer(deployment, "slave"));
    redis_rule["from"].push_back(pod_peer(deployment, "lb"));
    redis_rule["ports"].push_back(policy_port("redis"));
    YAML::Node http_rule;
    http_rule["from"].push_back(pod_peer(deployment, "lb"));
    http_rule["ports"].push_back(policy_port("http"));
    spec["ingress"].push_back(redis_rule);
    spec["ingress"].push_back(http_rule);
    return policy;
}

// One replica, replaced with Recreate: the LB coordinates elections and two must never run at once.
YAML::Node lb_deployment(const Deployment& deployment) {
    YAML::Node lb = object(deployment, "apps/v1", "Deployment", lb_deployment_name, "lb");
    YAML::Node spec = lb["spec"];
    spec["replicas"] = 1;
    spec["strategy"]["type"] = text("Recreate");
    spec["selector"] = match_labels(deployment, "lb");
    YAML::Node containers;
    containers.push_back(lb_container(deployment));
    YAML::Node volumes;
    volumes.push_back(config_volume());
    volumes.push_back(empty_dir_volume("tmp"));
    spec["template"] = pod_template(deployment, "lb", containers, volumes);
    return lb;
}

// Reached with `kubectl port-forward svc/lb 8080:<lb.servicePort>`.
YAML::Node lb_service(const Deployment& deployment) {
    YAML::Node service = object(deployment, "v1", "Service", lb_service_name, "lb");
    service["spec"]["type"] = text("ClusterIP");
    service["spec"]["selector"] = selector_labels(deployment, "lb");
    service["spec"]["ports"].push_back(service_port("http", deployment.values.integer("lb.servicePort")));
    return service;
}

}  // namespace

std::string write_kind(const Values& values, int replicas) {
    const YAML::Node config = service_config(values, "cluster.hostTemplate.kind", replicas);
    const Deployment deployment{values, replicas, to_json(config), checksum(to_json(fields_read_only_at_start(config)))};
    std::vector<YAML::Node> documents = {
        namespace_object(deployment),
        config_map(deployment),
        slave_headless_service(deployment),
        slave_stateful_set(deployment),
        slave_disruption_budget(deployment),
    };
    if (values.boolean("kind.networkPolicy")) documents.push_back(redis_network_policy(deployment));
    documents.push_back(lb_deployment(deployment));
    documents.push_back(lb_service(deployment));

    std::string manifests = header;
    for (const YAML::Node& document : documents) manifests += "---\n" + to_yaml(document);
    return manifests;
}

}  // namespace gen
