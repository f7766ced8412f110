#include <gtest/gtest.h>

#include <map>

#include "cdb/config.h"

namespace cdb {
namespace {

EnvLookup env_of(std::map<std::string, std::string> values) {
    return [values](const std::string& name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

const std::string minimal = R"({"cluster": {"host_template": "slave-{i}", "size": 3, "index": 1}})";

std::string error_of(const std::string& json, const std::map<std::string, std::string>& env = {},
                     ConfigUser user = ConfigUser::slave, const std::string& hostname = "host") {
    try {
        parse_config(json, env_of(env), user, hostname);
    } catch (const ConfigError& error) {
        return error.what();
    }
    return "";
}

TEST(Config, DefaultsApplyWhenOnlyRequiredFieldsAreGiven) {
    const DeploymentConfig config = parse_config(minimal, env_of({}), ConfigUser::slave, "host");
    EXPECT_EQ(config.cluster.host_template, "slave-{i}");
    EXPECT_EQ(config.cluster.size, 3);
    EXPECT_EQ(config.cluster.index, 1);
    EXPECT_EQ(config.redis.port, 6379);
    EXPECT_EQ(config.replication.mode, ReplicationMode::sync);
    EXPECT_EQ(config.election.failure_threshold, 3);
    EXPECT_EQ(config.log_level, "info");
}

TEST(Config, EnvironmentOverridesTheFile) {
    const DeploymentConfig config =
        parse_config(R"({"cluster": {"host_template": "a-{i}", "size": 2, "index": 0}, "redis": {"port": 7000}})",
                     env_of({{"REDIS_PORT", "7100"}, {"REPLICATION_MODE", "none"}, {"CLUSTER_SIZE", "5"}}),
                     ConfigUser::slave, "host");
    EXPECT_EQ(config.redis.port, 7100);
    EXPECT_EQ(config.replication.mode, ReplicationMode::none);
    EXPECT_EQ(config.cluster.size, 5);
}

TEST(Config, EnvironmentAloneIsEnough) {
    const DeploymentConfig config =
        parse_config("", env_of({{"CLUSTER_HOST_TEMPLATE", "slave-{i}"}, {"CLUSTER_SIZE", "2"}}), ConfigUser::lb, "h");
    EXPECT_EQ(config.cluster.size, 2);
    EXPECT_FALSE(config.cluster.index.has_value());
}

TEST(Config, IndexFromStatefulSetHostname) {
    const DeploymentConfig config =
        parse_config(R"({"cluster": {"host_template": "slave-{i}.slave", "size": 3, "index": "hostname"}})",
                     env_of({}), ConfigUser::slave, "slave-12");
    EXPECT_EQ(config.cluster.index, 12);
    EXPECT_NE(error_of(minimal, {{"CLUSTER_INDEX", "hostname"}}, ConfigUser::slave, "laptop").find("CLUSTER_INDEX"),
              std::string::npos);
}

TEST(Config, ErrorsNameTheField) {
    EXPECT_NE(error_of("{}").find("missing field cluster.host_template"), std::string::npos);
    EXPECT_NE(error_of(R"({"cluster": {"host_template": "s-{i}", "size": 2}})").find("cluster.index"), std::string::npos);
    EXPECT_NE(error_of(minimal, {{"REDIS_PORT", "80a"}}).find("REDIS_PORT"), std::string::npos);
    EXPECT_NE(error_of(minimal, {{"REDIS_PORT", "70000"}}).find("between 1 and 65535"), std::string::npos);
    EXPECT_NE(error_of(minimal, {{"REPLICATION_MODE", "fast"}}).find("REPLICATION_MODE"), std::string::npos);
    EXPECT_NE(error_of(minimal, {{"LOG_LEVEL", "verbose"}}).find("LOG_LEVEL"), std::string::npos);
    EXPECT_NE(error_of(R"({"cluster": {"host_template": "s-{i}", "size": "3", "index": 0}})").find("cluster.size"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"cluster": {"host_template": "s-{i}", "size": 3, "index": 0}, "redis": {"prot": 1}})")
                  .find("unknown field redis.prot"),
              std::string::npos);
    EXPECT_NE(error_of("{not json").find("invalid configuration file"), std::string::npos);
}

TEST(Config, TemplateWithoutIndexNeedsPortStep) {
    EXPECT_NE(error_of(R"({"cluster": {"host_template": "127.0.0.1", "size": 3, "index": 0}})").find("{i}"),
              std::string::npos);
    EXPECT_EQ(error_of(R"({"cluster": {"host_template": "127.0.0.1", "size": 3, "index": 0, "port_step": 1}})"), "");
}

TEST(Config, SyncWaitMustFitInTheCommandTimeout) {
    EXPECT_NE(error_of(minimal, {{"REPLICATION_SYNC_TIMEOUT_MS", "500"}}).find("replication.sync_timeout_ms"),
              std::string::npos);
}

TEST(Config, EnvNameFollowsThePath) {
    EXPECT_EQ(env_name_for("redis.command_timeout_ms"), "REDIS_COMMAND_TIMEOUT_MS");
    EXPECT_EQ(env_name_for("log_level"), "LOG_LEVEL");
}

}  // namespace
}  // namespace cdb
