// The Kubernetes manifests, parsed back with yaml-cpp: N clusters named slave-0..N-1, selectors that
// match, named ports that exist, configuration that reaches the services, no host networking.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "kind_writer.hpp"
#include "test_support.hpp"
#include "values.hpp"

namespace gen_test {
namespace {

const std::vector<std::string> labels = {"app.kubernetes.io/name", "app.kubernetes.io/instance",
                                         "app.kubernetes.io/component", "app.kubernetes.io/part-of",
                                         "app.kubernetes.io/managed-by"};

std::vector<YAML::Node> render(int replicas, const std::vector<std::string>& assignments = {}) {
    gen::Values values = gen::Values::defaults();
    for (const std::string& assignment : assignments) values.set(assignment);
    return YAML::LoadAll(gen::write_kind(values, replicas));
}

// True when every label the selector asks for is on the pod.
bool selects(const YAML::Node& selector, const YAML::Node& pod_labels) {
    for (const auto& wanted : selector) {
        if (!pod_labels[wanted.first.Scalar()] || pod_labels[wanted.first.Scalar()].Scalar() != wanted.second.Scalar()) {
            return false;
        }
    }
    return selector.size() > 0;
}

std::set<std::string> port_names(const YAML::Node& container) {
    std::set<std::string> names;
    for (const auto& port : container["ports"]) names.insert(port["name"].Scalar());
    return names;
}

class KindManifests : public ::testing::TestWithParam<int> {
protected:
    const int replicas = GetParam();
    const std::vector<YAML::Node> documents = render(replicas);

    YAML::Node find(const std::string& kind, const std::string& name) const {
        for (const YAML::Node& document : documents) {
            if (document["kind"].Scalar() == kind && document["metadata"]["name"].Scalar() == name) return document;
        }
        ADD_FAILURE() << "no " << kind << " " << name;
        return YAML::Node();
    }
    YAML::Node pod(const std::string& kind, const std::string& name) const { return find(kind, name)["spec"]["template"]; }
    std::set<std::string> pod_port_names(const YAML::Node& template_) const {
        std::set<std::string> names;
        for (const auto& container : template_["spec"]["containers"]) {
            for (const std::string& name : port_names(container)) names.insert(name);
        }
        return names;
    }
};

TEST_P(KindManifests, WritesTheExpectedObjectsInOrder) {
    std::vector<std::string> objects;
    for (const YAML::Node& document : documents) {
        objects.push_back(document["kind"].Scalar() + "/" + document["metadata"]["name"].Scalar());
    }
    EXPECT_EQ(objects, (std::vector<std::string>{"Namespace/consult-db", "ConfigMap/consult-db-config", "Service/slave",
                                                 "StatefulSet/slave", "PodDisruptionBudget/slave",
                                                 "NetworkPolicy/slave-redis", "Deployment/lb", "Service/lb"}));
}

TEST_P(KindManifests, EveryObjectIsInTheNamespaceAndCarriesTheRecommendedLabels) {
    for (const YAML::Node& document : documents) {
        const YAML::Node metadata = document["metadata"];
        const bool is_namespace = document["kind"].Scalar() == "Namespace";
        EXPECT_EQ((is_namespace ? metadata["name"] : metadata["namespace"]).Scalar(), "consult-db");
        for (const std::string& label : labels) {
            if (is_namespace && label == "app.kubernetes.io/component") continue;
            EXPECT_TRUE(metadata["labels"][label]) << document["kind"] << " lacks " << label;
        }
    }
}

TEST_P(KindManifests, TheStatefulSetMakesOneNamedClusterPerReplica) {
    const YAML::Node set = find("StatefulSet", "slave");
    // Pods of StatefulSet "slave" are slave-0..N-1; the headless Service "slave" names them slave-i.slave.
    EXPECT_EQ(set["spec"]["replicas"].as<int>(), replicas);
    EXPECT_EQ(set["spec"]["podManagementPolicy"].Scalar(), "Parallel");
    const std::string service_name = set["spec"]["serviceName"].Scalar();
    const YAML::Node service = find("Service", service_name);
    EXPECT_EQ(service["spec"]["clusterIP"].Scalar(), "None");
    EXPECT_TRUE(service["spec"]["publishNotReadyAddresses"].as<bool>());
    EXPECT_TRUE(selects(service["spec"]["selector"], set["spec"]["template"]["metadata"]["labels"]));
}

TEST_P(KindManifests, ClustersSpreadOverNodesAndTheLbKeepsOneReplica) {
    // Losing one node must not take several clusters: the slave pods prefer distinct hostnames.
    const YAML::Node constraints = pod("StatefulSet", "slave")["spec"]["topologySpreadConstraints"];
    ASSERT_TRUE(constraints.IsSequence());
    ASSERT_EQ(constraints.size(), 1u);
    const YAML::Node spread = constraints[0];
    EXPECT_EQ(spread["topologyKey"].Scalar(), "kubernetes.io/hostname");
    EXPECT_EQ(spread["maxSkew"].as<int>(), 1);
    // A preference: a single-node cluster (kind) still schedules every cluster.
    EXPECT_EQ(spread["whenUnsatisfiable"].Scalar(), "ScheduleAnyway");
    EXPECT_TRUE(selects(spread["labelSelector"]["matchLabels"], pod("StatefulSet", "slave")["metadata"]["labels"]));
    EXPECT_FALSE(selects(spread["labelSelector"]["matchLabels"], pod("Deployment", "lb")["metadata"]["labels"]));
    // The LB coordinates elections: one replica, never two at once.
    EXPECT_EQ(find("Deployment", "lb")["spec"]["replicas"].as<int>(), 1);
    EXPECT_EQ(find("Deployment", "lb")["spec"]["strategy"]["type"].Scalar(), "Recreate");
}

// Bytes of a Redis memory size ("256mb": 1024-based with b, 1000-based without) and of a Kubernetes
// quantity ("384Mi", "400M"); -1 when the text is neither.
long long redis_bytes(const std::string& text) {
    static const std::map<std::string, long long> units = {
        {"", 1}, {"b", 1}, {"k", 1000}, {"kb", 1024}, {"m", 1000000}, {"mb", 1024LL * 1024},
        {"g", 1000000000}, {"gb", 1024LL * 1024 * 1024}};
    const std::size_t digits = text.find_first_not_of("0123456789");
    std::string unit = digits == std::string::npos ? "" : text.substr(digits);
    for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto found = units.find(unit);
    return digits == 0 || found == units.end() ? -1 : std::stoll(text.substr(0, digits)) * found->second;
}
long long quantity_bytes(const std::string& text) {
    static const std::map<std::string, long long> units = {
        {"", 1}, {"Ki", 1024}, {"Mi", 1024LL * 1024}, {"Gi", 1024LL * 1024 * 1024},
        {"k", 1000}, {"M", 1000000}, {"G", 1000000000}};
    const std::size_t digits = text.find_first_not_of("0123456789");
    const auto found = units.find(digits == std::string::npos ? "" : text.substr(digits));
    return digits == 0 || found == units.end() ? -1 : std::stoll(text.substr(0, digits)) * found->second;
}

TEST(KindMemory, UnitsAreRead) {
    EXPECT_EQ(redis_bytes("256mb"), 256LL * 1024 * 1024);
    EXPECT_EQ(redis_bytes("1gb"), 1024LL * 1024 * 1024);
    EXPECT_EQ(redis_bytes("100m"), 100000000);
    EXPECT_EQ(quantity_bytes("384Mi"), 384LL * 1024 * 1024);
    EXPECT_EQ(quantity_bytes("400M"), 400000000);
    EXPECT_EQ(quantity_bytes("lots"), -1);
}

// Redis's maxmemory cap (noeviction: past it, writes fail cleanly) must sit below its container's
// memory limit, or the kernel kills Redis before Redis refuses a write; and no container may request
// more than its limit (the API server would reject the pod).
TEST_P(KindManifests, RedisMaxmemoryStaysBelowItsMemoryLimit) {
    for (const auto& [kind, name] : {std::pair<std::string, std::string>{"StatefulSet", "slave"}, {"Deployment", "lb"}}) {
        for (const auto& container : pod(kind, name)["spec"]["containers"]) {
            const long long request = quantity_bytes(container["resources"]["requests"]["memory"].Scalar());
            const long long limit = quantity_bytes(container["resources"]["limits"]["memory"].Scalar());
            EXPECT_GT(request, 0) << container["name"];
            EXPECT_LE(request, limit) << container["name"];
            if (container["name"].Scalar() != "redis") continue;
            const auto args = container["args"].as<std::vector<std::string>>();
            const auto flag = std::find(args.begin(), args.end(), "--maxmemory");
            ASSERT_TRUE(flag != args.end() && flag + 1 != args.end());
            const long long maxmemory = redis_bytes(*(flag + 1));
            EXPECT_GT(maxmemory, 0);
            EXPECT_LT(maxmemory, limit) << "--maxmemory " << *(flag + 1) << " does not fit the container's limit";
        }
    }
}

TEST_P(KindManifests, SelectorsMatchTheirPodsAndOnlyThose) {
    const YAML::Node slave_labels = pod("StatefulSet", "slave")["metadata"]["labels"];
    const YAML::Node lb_labels = pod("Deployment", "lb")["metadata"]["labels"];
    EXPECT_TRUE(selects(find("StatefulSet", "slave")["spec"]["selector"]["matchLabels"], slave_labels));
    EXPECT_TRUE(selects(find("Deployment", "lb")["spec"]["selector"]["matchLabels"], lb_labels));
    EXPECT_TRUE(selects(find("Service", "lb")["spec"]["selector"], lb_labels));
    EXPECT_FALSE(selects(find("Service", "lb")["spec"]["selector"], slave_labels));
    EXPECT_FALSE(selects(find("Service", "slave")["spec"]["selector"], lb_labels));
    EXPECT_TRUE(selects(find("PodDisruptionBudget", "slave")["spec"]["selector"]["matchLabels"], slave_labels));
    EXPECT_TRUE(selects(find("NetworkPolicy", "slave-redis")["spec"]["podSelector"]["matchLabels"], slave_labels));
}

TEST_P(KindManifests, NamedPortsUsedByProbesServicesAndPoliciesExist) {
    for (const auto& [kind, name] : {std::pair<std::string, std::string>{"StatefulSet", "slave"}, {"Deployment", "lb"}}) {
        for (const auto& container : pod(kind, name)["spec"]["containers"]) {
            for (const char* probe_kind : {"readinessProbe", "livenessProbe"}) {
                const YAML::Node probe = container[probe_kind];
                ASSERT_TRUE(probe) << container["name"] << " has no " << probe_kind;
                const YAML::Node port = probe["httpGet"] ? probe["httpGet"]["port"] : probe["tcpSocket"]["port"];
                EXPECT_EQ(port_names(container).count(port.Scalar()), 1u) << container["name"] << " " << probe_kind;
            }
        }
    }
    for (const auto& [service, workload] : {std::pair<std::string, std::string>{"slave", "StatefulSet"}, {"lb", "Deployment"}}) {
        for (const auto& port : find("Service", service)["spec"]["ports"]) {
            EXPECT_EQ(pod_port_names(pod(workload, service)).count(port["targetPort"].Scalar()), 1u) << service;
        }
    }
    for (const auto& rule : find("NetworkPolicy", "slave-redis")["spec"]["ingress"]) {
        for (const auto& port : rule["ports"]) {
            EXPECT_EQ(pod_port_names(pod("StatefulSet", "slave")).count(port["port"].Scalar()), 1u);
        }
    }
}

TEST_P(KindManifests, TheLbIsOneRecreatedReplicaBehindServicePort80) {
    const YAML::Node lb = find("Deployment", "lb");
    EXPECT_EQ(lb["spec"]["replicas"].as<int>(), 1);
    EXPECT_EQ(lb["spec"]["strategy"]["type"].Scalar(), "Recreate");
    const YAML::Node port = find("Service", "lb")["spec"]["ports"][0];
    EXPECT_EQ(port["port"].as<int>(), 80);
    EXPECT_EQ(port["targetPort"].Scalar(), "http");
}

TEST_P(KindManifests, NothingUsesTheHostNetwork) {
    for (const YAML::Node& document : documents) {
        for (const char* key : {"hostNetwork", "hostPort", "hostPID", "hostIPC"}) {
            EXPECT_FALSE(has_key_anywhere(document, key)) << document["kind"] << " " << key;
        }
    }
}

TEST_P(KindManifests, ContainersRunAsNonRootWithoutPrivileges) {
    for (const auto& [kind, name] : {std::pair<std::string, std::string>{"StatefulSet", "slave"}, {"Deployment", "lb"}}) {
        const YAML::Node spec = pod(kind, name)["spec"];
        EXPECT_TRUE(spec["securityContext"]["runAsNonRoot"].as<bool>());
        EXPECT_EQ(spec["securityContext"]["runAsUser"].as<int>(), 10001);
        EXPECT_TRUE(spec["terminationGracePeriodSeconds"]);
        EXPECT_FALSE(spec["enableServiceLinks"].as<bool>()) << "LB_PORT=tcp://... would break the services' config";
        for (const auto& container : spec["containers"]) {
            const YAML::Node context = container["securityContext"];
            EXPECT_FALSE(context["allowPrivilegeEscalation"].as<bool>());
            EXPECT_TRUE(context["readOnlyRootFilesystem"].as<bool>());
            EXPECT_EQ(context["capabilities"]["drop"].as<std::vector<std::string>>(), std::vector<std::string>{"ALL"});
            EXPECT_EQ(container["imagePullPolicy"].Scalar(), "IfNotPresent");
            EXPECT_TRUE(container["resources"]["requests"] && container["resources"]["limits"]);
        }
    }
}

TEST_P(KindManifests, TheConfigurationReachesTheServicesAsAFile) {
    for (const auto& [kind, name] : {std::pair<std::string, std::string>{"StatefulSet", "slave"}, {"Deployment", "lb"}}) {
        const YAML::Node spec = pod(kind, name)["spec"];
        const YAML::Node container = spec["containers"][0];
        std::string config_file;
        for (const auto& variable : container["env"]) {
            if (variable["valueFrom"]) continue;  // a password from the Secret
            EXPECT_TRUE(reads_as_string(variable["value"])) << variable["name"];
            if (variable["name"].Scalar() == "CONFIG_FILE") config_file = variable["value"].Scalar();
        }
        std::string mount_path;
        for (const auto& mount : container["volumeMounts"]) {
            if (mount["name"].Scalar() == "config") mount_path = mount["mountPath"].Scalar();
        }
        EXPECT_EQ(config_file, mount_path + "/config.json") << kind;
        EXPECT_EQ(spec["volumes"][0]["configMap"]["name"].Scalar(), "consult-db-config") << kind;
    }
    const YAML::Node slave_env = pod("StatefulSet", "slave")["spec"]["containers"][0]["env"];
    EXPECT_EQ(slave_env[1]["name"].Scalar(), "CLUSTER_INDEX");
    EXPECT_EQ(slave_env[1]["value"].Scalar(), "hostname");
    // JSON is YAML: the ConfigMap's file parses with the same reader.
    const YAML::Node config = YAML::Load(find("ConfigMap", "consult-db-config")["data"]["config.json"].Scalar());
    EXPECT_EQ(config["cluster"]["size"].as<int>(), replicas);
    EXPECT_EQ(config["cluster"]["host_template"].Scalar(), "slave-{i}.slave");
    EXPECT_EQ(config["replication"]["mode"].Scalar(), "sync");
}

TEST_P(KindManifests, RedisIsReachableOnlyFromSlaveAndLbPods) {
    const YAML::Node ingress = find("NetworkPolicy", "slave-redis")["spec"]["ingress"];
    for (const auto& rule : ingress) {
        if (rule["ports"][0]["port"].Scalar() != "redis") continue;
        ASSERT_EQ(rule["from"].size(), 2u);
        EXPECT_EQ(rule["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"].Scalar(), "slave");
        EXPECT_EQ(rule["from"][1]["podSelector"]["matchLabels"]["app.kubernetes.io/component"].Scalar(), "lb");
        return;
    }
    ADD_FAILURE() << "no ingress rule for the redis port";
}

// Only the LB sends the slaves control messages (docs/SECURITY.md); the kubelet's probes come from
// the node, which a NetworkPolicy always lets through.
TEST_P(KindManifests, TheSlavesHttpPortIsReachableOnlyFromTheLbPod) {
    const YAML::Node ingress = find("NetworkPolicy", "slave-redis")["spec"]["ingress"];
    for (const auto& rule : ingress) {
        if (rule["ports"][0]["port"].Scalar() != "http") continue;
        ASSERT_EQ(rule["from"].size(), 1u);
        EXPECT_EQ(rule["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"].Scalar(), "lb");
        return;
    }
    ADD_FAILURE() << "no ingress rule for the http port";
}

// Least privilege (docs/SECURITY.md): the Secret's keys go only where they are used, and no
// secret is written in the manifests.
TEST_P(KindManifests, EachContainerGetsOnlyTheSecretsItUsesFromTheSecret) {
    std::map<std::string, std::vector<std::string>> expected{
        {"slave", {"REDIS_DATA_PASSWORD", "CONTROL_PLANE_KEY"}},
        {"redis", {"REDIS_DATA_PASSWORD", "REDIS_COORDINATOR_PASSWORD", "REDIS_REPLICATION_PASSWORD"}},
        {"lb", {"REDIS_COORDINATOR_PASSWORD", "CONTROL_PLANE_KEY", "ADMIN_TOKEN"}}};
    for (const auto& [kind, name] : {std::pair<std::string, std::string>{"StatefulSet", "slave"}, {"Deployment", "lb"}}) {
        for (const auto& container : pod(kind, name)["spec"]["containers"]) {
            std::vector<std::string> passwords;
            for (const auto& variable : container["env"]) {
                const std::string variable_name = variable["name"].Scalar();
                if (!variable["valueFrom"] && variable_name.find("PASSWORD") == std::string::npos) continue;
                passwords.push_back(variable_name);
                EXPECT_FALSE(variable["value"]) << variable_name << " written in the manifest";
                EXPECT_EQ(variable["valueFrom"]["secretKeyRef"]["name"].Scalar(), "consult-db-redis-auth");
                EXPECT_EQ(variable["valueFrom"]["secretKeyRef"]["key"].Scalar(), variable_name);
            }
            EXPECT_EQ(passwords, expected.at(container["name"].Scalar())) << container["name"];
        }
    }
    const YAML::Node redis = pod("StatefulSet", "slave")["spec"]["containers"][1];
    EXPECT_EQ(redis["command"][0].Scalar(), "/usr/local/bin/redis-run");
    for (const YAML::Node& document : documents) EXPECT_NE(document["kind"].Scalar(), "Secret");
}

INSTANTIATE_TEST_SUITE_P(Replicas, KindManifests, ::testing::Values(1, 3, 7));

TEST(KindManifestValues, TheNetworkPolicyCanBeLeftOut) {
    for (const YAML::Node& document : render(3, {"kind.networkPolicy=false"})) {
        EXPECT_NE(document["kind"].Scalar(), "NetworkPolicy");
    }
}

YAML::Node find_in(const std::vector<YAML::Node>& documents, const std::string& kind, const std::string& name) {
    for (const YAML::Node& document : documents) {
        if (document["kind"].Scalar() == kind && document["metadata"]["name"].Scalar() == name) return document;
    }
    ADD_FAILURE() << "no " << kind << " " << name;
    return YAML::Node();
}

// Issue 20: re-applying the manifests of another --replicas on a running system must restart no pod
// (each restarted slave would come back with an empty Redis): the pod templates may not change.
TEST(KindManifestValues, AnotherSizeChangesNoPodTemplate) {
    const std::vector<YAML::Node> three = render(3);
    const std::vector<YAML::Node> five = render(5);
    YAML::Node set_three = YAML::Clone(find_in(three, "StatefulSet", "slave")["spec"]);
    YAML::Node set_five = YAML::Clone(find_in(five, "StatefulSet", "slave")["spec"]);
    EXPECT_EQ(set_three["replicas"].as<int>(), 3);
    EXPECT_EQ(set_five["replicas"].as<int>(), 5);
    set_three.remove("replicas");
    set_five.remove("replicas");
    EXPECT_EQ(YAML::Dump(set_three), YAML::Dump(set_five));
    EXPECT_EQ(YAML::Dump(find_in(three, "Deployment", "lb")["spec"]), YAML::Dump(find_in(five, "Deployment", "lb")["spec"]));
}

// Any other configuration field is read at start only: changing it must still roll the pods.
TEST(KindManifestValues, AnotherConfigurationValueRestartsThePods) {
    const auto annotation = [](const std::vector<YAML::Node>& documents, const std::string& kind, const std::string& name) {
        return find_in(documents, kind, name)["spec"]["template"]["metadata"]["annotations"]["checksum/config"].Scalar();
    };
    const std::vector<YAML::Node> plain = render(3);
    const std::vector<YAML::Node> changed = render(3, {"config.redis.command_timeout_ms=700"});
    for (const auto& [kind, name] : {std::pair<std::string, std::string>{"StatefulSet", "slave"}, {"Deployment", "lb"}}) {
        EXPECT_FALSE(annotation(plain, kind, name).empty()) << kind;
        EXPECT_NE(annotation(plain, kind, name), annotation(changed, kind, name)) << kind;
    }
}

TEST(KindManifestValues, ValuesReachEveryPlaceTheyDrive) {
    const std::vector<YAML::Node> documents =
        render(2, {"images.tag=v2", "config.slave.port=9000", "kind.namespace=other", "redis.maxmemory=64mb"});
    const YAML::Node set = documents[3];
    ASSERT_EQ(set["kind"].Scalar(), "StatefulSet");
    EXPECT_EQ(set["metadata"]["namespace"].Scalar(), "other");
    const YAML::Node slave = set["spec"]["template"]["spec"]["containers"][0];
    EXPECT_EQ(slave["image"].Scalar(), "consult-db-slave:v2");
    EXPECT_EQ(slave["ports"][0]["containerPort"].as<int>(), 9000);
    const auto redis_args = set["spec"]["template"]["spec"]["containers"][1]["args"].as<std::vector<std::string>>();
    EXPECT_NE(std::find(redis_args.begin(), redis_args.end(), "64mb"), redis_args.end());
}

}  // namespace
}  // namespace gen_test
