// The Compose file, parsed back with yaml-cpp: one container per cluster, the cluster table in the
// environment, only the LB published, no host networking, nothing docker-compose 1.29 rejects.
#include <gtest/gtest.h>

#include <set>

#include "compose_writer.hpp"
#include "test_support.hpp"
#include "values.hpp"

namespace gen_test {
namespace {

class ComposeFile : public ::testing::TestWithParam<int> {
protected:
    const int replicas = GetParam();
    const YAML::Node file = YAML::Load(gen::write_compose(gen::Values::defaults(), replicas));
    const YAML::Node services = file["services"];

    std::vector<std::string> argv_of(const YAML::Node& sequence) const { return sequence.as<std::vector<std::string>>(); }
};

TEST_P(ComposeFile, ServicesAreTheLbAndOneContainerPerCluster) {
    std::set<std::string> expected{"lb"};
    for (int index = 0; index < replicas; ++index) expected.insert("slave-" + std::to_string(index));
    std::set<std::string> names;
    for (const auto& service : services) names.insert(service.first.Scalar());
    EXPECT_EQ(names, expected);
}

TEST_P(ComposeFile, EachClusterKnowsItsIndexAndTheClusterTable) {
    for (int index = 0; index < replicas; ++index) {
        const std::string name = "slave-" + std::to_string(index);
        const YAML::Node slave = services[name];
        EXPECT_EQ(slave["hostname"].Scalar(), name);
        EXPECT_EQ(argv_of(slave["command"]), std::vector<std::string>{"cluster-run"});
        EXPECT_EQ(slave["environment"]["CLUSTER_INDEX"].Scalar(), std::to_string(index));
        EXPECT_EQ(slave["environment"]["CLUSTER_SIZE"].Scalar(), std::to_string(replicas));
        EXPECT_EQ(slave["environment"]["CLUSTER_HOST_TEMPLATE"].Scalar(), "slave-{i}");
    }
    EXPECT_FALSE(services["lb"]["environment"]["CLUSTER_INDEX"]);
    EXPECT_EQ(services["lb"]["environment"]["CLUSTER_SIZE"].Scalar(), std::to_string(replicas));
    EXPECT_EQ(services["lb"]["environment"]["LB_PORT"].Scalar(), "8080");
}

TEST_P(ComposeFile, EnvironmentValuesAreStrings) {
    for (const auto& service : services) {
        for (const auto& variable : service.second["environment"]) {
            EXPECT_TRUE(reads_as_string(variable.second)) << service.first << " " << variable.first;
        }
    }
}

TEST_P(ComposeFile, OnlyTheLbPublishesAPortAndOnLoopback) {
    for (const auto& service : services) {
        if (service.first.Scalar() == "lb") continue;
        EXPECT_FALSE(service.second["ports"]) << service.first;
        EXPECT_FALSE(service.second["expose"]) << service.first;
    }
    ASSERT_EQ(services["lb"]["ports"].size(), 1u);
    EXPECT_EQ(services["lb"]["ports"][0].Scalar(), "127.0.0.1:8080:8080");
}

TEST_P(ComposeFile, RedisTrafficIsOnAnInternalNetworkAndOnlyTheLbHasAWayOut) {
    EXPECT_FALSE(has_key_anywhere(file, "network_mode"));
    ASSERT_EQ(file["networks"].size(), 2u);
    EXPECT_EQ(file["networks"]["consult-db"]["driver"].Scalar(), "bridge");
    EXPECT_TRUE(file["networks"]["consult-db"]["internal"].as<bool>());
    EXPECT_EQ(file["networks"]["consult-db-public"]["driver"].Scalar(), "bridge");
    EXPECT_FALSE(file["networks"]["consult-db-public"]["internal"]);
    for (const auto& service : services) {
        const std::string name = service.first.Scalar();
        // On an internal network Docker's DNS takes 10 s to say a name does not exist (a stopped
        // cluster's); these options make it 1 s.
        EXPECT_EQ(argv_of(service.second["dns_opt"]), (std::vector<std::string>{"timeout:1", "attempts:1"})) << name;
        const std::vector<std::string> expected =
            name == "lb" ? std::vector<std::string>{"consult-db", "consult-db-public"} : std::vector<std::string>{"consult-db"};
        EXPECT_EQ(argv_of(service.second["networks"]), expected) << name;
    }
}

TEST_P(ComposeFile, ContainersAreReadOnlyWithoutCapabilitiesOrPrivilegeGains) {
    for (const auto& service : services) {
        const YAML::Node spec = service.second;
        EXPECT_TRUE(spec["read_only"].as<bool>()) << service.first;
        EXPECT_EQ(argv_of(spec["tmpfs"]), std::vector<std::string>{"/tmp:size=512m"}) << service.first;
        EXPECT_EQ(argv_of(spec["cap_drop"]), std::vector<std::string>{"ALL"}) << service.first;
        EXPECT_EQ(argv_of(spec["security_opt"]), std::vector<std::string>{"no-new-privileges:true"}) << service.first;
        EXPECT_FALSE(spec["user"]) << "the images' own user 10001, never root";
        EXPECT_FALSE(spec["privileged"]) << service.first;
    }
}

TEST_P(ComposeFile, HealthchecksProbeEachBinarysOwnPort) {
    EXPECT_EQ(argv_of(services["lb"]["healthcheck"]["test"]),
              (std::vector<std::string>{"CMD", "lb", "--probe", "/lb/healthz"}));
    for (int index = 0; index < replicas; ++index) {
        EXPECT_EQ(argv_of(services["slave-" + std::to_string(index)]["healthcheck"]["test"]),
                  (std::vector<std::string>{"CMD", "slave", "--probe", "/healthz"}));
    }
}

// Each Compose check is a docker exec (~0.13 s of CPU): its period is its own, not the Kubernetes
// probes' 2 s, which for 21 containers took most of a 2-core machine during a launch.
TEST_P(ComposeFile, HealthchecksTakeTheirPeriodFromTheirOwnValue) {
    gen::Values values = gen::Values::defaults();
    values.set("compose.healthcheckIntervalSeconds=45");
    values.set("probes.periodSeconds=7");
    const YAML::Node changed = YAML::Load(gen::write_compose(values, replicas))["services"];
    for (const auto& service : services) {
        EXPECT_EQ(service.second["healthcheck"]["interval"].Scalar(), "10s") << service.first;
        EXPECT_EQ(changed[service.first.Scalar()]["healthcheck"]["interval"].Scalar(), "45s") << service.first;
    }
}

TEST_P(ComposeFile, TheLbStartsWithoutWaitingForClusters) {
    EXPECT_FALSE(has_key_anywhere(file, "depends_on"));
}

TEST_P(ComposeFile, UsesNothingDockerCompose129Rejects) {
    for (const char* key : {"version", "name", "include"}) EXPECT_FALSE(file[key]) << key;
    EXPECT_FALSE(has_key_anywhere(file, "start_interval"));
    EXPECT_FALSE(has_key_anywhere(file, "required"));
    for (const auto& service : services) {
        EXPECT_TRUE(service.second["init"].as<bool>()) << service.first;
        // stopGraceSeconds: the hand-over's 4 s, the drain and Redis's stop (docs/DEPLOY.md).
        EXPECT_EQ(service.second["stop_grace_period"].Scalar(), "7s") << service.first;
    }
}

INSTANTIATE_TEST_SUITE_P(Replicas, ComposeFile, ::testing::Values(1, 3, 7));

}  // namespace
}  // namespace gen_test
