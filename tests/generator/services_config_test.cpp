// The contract with the services: their own configuration parser (services/common, cdb::parse_config)
// accepts what the generator writes, and reads the values the generator was given. Compose passes
// environment variables; Kubernetes passes config.json plus CLUSTER_INDEX=hostname.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>

#include "cdb/config.h"
#include "compose_writer.hpp"
#include "kind_writer.hpp"
#include "values.hpp"

namespace {

gen::Values values_with(const std::vector<std::string>& assignments) {
    gen::Values values = gen::Values::defaults();
    for (const std::string& assignment : assignments) values.set(assignment);
    return values;
}

// Only the variables the generator wrote, nothing from the test's own environment.
cdb::EnvLookup lookup_in(std::map<std::string, std::string> variables) {
    return [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
        const auto found = variables.find(name);
        if (found == variables.end()) return std::nullopt;
        return found->second;
    };
}

// What the launchers' secrets file holds (docs/SECURITY.md): Compose's env_file and the
// Kubernetes Secret both carry these keys.
const std::map<std::string, std::string> secrets{{"REDIS_DATA_PASSWORD", "data-password-00001"},
                                                 {"REDIS_COORDINATOR_PASSWORD", "coordinator-password-1"},
                                                 {"REDIS_REPLICATION_PASSWORD", "replication-password-1"},
                                                 {"CONTROL_PLANE_KEY", "control-plane-key-0000000000000001"},
                                                 {"ADMIN_TOKEN", "admin-token-00000000000000000000001"}};

// The service's environment plus its env_file, the secrets file.
cdb::EnvLookup compose_environment(const YAML::Node& service) {
    std::map<std::string, std::string> variables;
    EXPECT_EQ(service["env_file"].size(), 1u);
    if (service["env_file"].size() == 1) variables = secrets;
    for (const auto& variable : service["environment"]) variables[variable.first.Scalar()] = variable.second.Scalar();
    return lookup_in(variables);
}

// A value, or the Secret's key a secretKeyRef names.
cdb::EnvLookup kind_environment(const YAML::Node& container) {
    std::map<std::string, std::string> variables;
    for (const auto& variable : container["env"]) {
        const bool from_secret = static_cast<bool>(variable["valueFrom"]);
        variables[variable["name"].Scalar()] = from_secret ? secrets.at(variable["valueFrom"]["secretKeyRef"]["key"].Scalar())
                                                           : variable["value"].Scalar();
    }
    return lookup_in(variables);
}

YAML::Node first_container(const std::vector<YAML::Node>& documents, const std::string& kind) {
    for (const YAML::Node& document : documents) {
        if (document["kind"].Scalar() == kind) return document["spec"]["template"]["spec"]["containers"][0];
    }
    ADD_FAILURE() << "no " << kind;
    return YAML::Node();
}

const std::vector<std::string> non_defaults = {"config.replication.mode=async", "config.election.failure_threshold=5",
                                               "config.redis.command_timeout_ms=750", "config.log_level=debug"};

void expect_non_defaults(const cdb::DeploymentConfig& config) {
    EXPECT_EQ(config.replication.mode, cdb::ReplicationMode::async);
    EXPECT_EQ(config.election.failure_threshold, 5);
    EXPECT_EQ(config.redis.command_timeout_ms, 750);
    EXPECT_EQ(config.log_level, "debug");
}

TEST(ServicesConfig, ComposeEnvironmentParsesForEverySlaveAndTheLb) {
    const YAML::Node file = YAML::Load(gen::write_compose(values_with(non_defaults), 3));
    for (int index = 0; index < 3; ++index) {
        const std::string name = "slave-" + std::to_string(index);
        const cdb::DeploymentConfig config =
            cdb::parse_config("", compose_environment(file["services"][name]), cdb::ConfigUser::slave, name);
        EXPECT_EQ(config.cluster.index, index);
        EXPECT_EQ(config.cluster.size, 3);
        EXPECT_EQ(config.cluster.host_template, "slave-{i}");
        expect_non_defaults(config);
    }
    const cdb::DeploymentConfig lb =
        cdb::parse_config("", compose_environment(file["services"]["lb"]), cdb::ConfigUser::lb, "lb");
    EXPECT_EQ(lb.lb.port, 8080);
    expect_non_defaults(lb);
}

TEST(ServicesConfig, KindConfigFileParsesForEveryPodAndTheLb) {
    const std::vector<YAML::Node> documents = YAML::LoadAll(gen::write_kind(values_with(non_defaults), 4));
    const std::string json = documents[1]["data"]["config.json"].Scalar();
    const YAML::Node slave = first_container(documents, "StatefulSet");
    for (int index = 0; index < 4; ++index) {
        // A StatefulSet pod's host name is its name, slave-<ordinal>.
        const cdb::DeploymentConfig config = cdb::parse_config(json, kind_environment(slave), cdb::ConfigUser::slave,
                                                               "slave-" + std::to_string(index));
        EXPECT_EQ(config.cluster.index, index);
        EXPECT_EQ(config.cluster.size, 4);
        EXPECT_EQ(config.cluster.host_template, "slave-{i}.slave");
        EXPECT_EQ(config.redis.data_password, secrets.at("REDIS_DATA_PASSWORD"));
        EXPECT_EQ(config.control_plane_key, secrets.at("CONTROL_PLANE_KEY"));
        expect_non_defaults(config);
    }
    const cdb::DeploymentConfig config = cdb::parse_config(json, kind_environment(first_container(documents, "Deployment")),
                                                           cdb::ConfigUser::lb, "lb-5d9f8-x2x7q");
    EXPECT_EQ(config.lb.port, 8080);
    EXPECT_EQ(config.redis.coordinator_password, secrets.at("REDIS_COORDINATOR_PASSWORD"));
    EXPECT_EQ(config.control_plane_key, secrets.at("CONTROL_PLANE_KEY"));
    EXPECT_EQ(config.admin_token, secrets.at("ADMIN_TOKEN"));
    expect_non_defaults(config);
}

}  // namespace
