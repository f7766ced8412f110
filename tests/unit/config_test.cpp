#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

#include <unistd.h>

#include "cdb/config.h"
#include "cdb/config_schema.h"
#include "cdb/coordination/config.h"
#include "cdb/coordination/timings.h"

namespace cdb {
namespace {

const std::string data_password = "data-password-0001";
const std::string coordinator_password = "coordinator-password-0001";
const std::string control_plane_key = "control-plane-key-00000000000000001";
const std::string admin_token = "admin-token-000000000000000000000001";

EnvLookup lookup_of(std::map<std::string, std::string> values) {
    return [values](const std::string& name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

// Both services' secrets unless the test sets its own: the services refuse to start without.
EnvLookup env_of(std::map<std::string, std::string> values) {
    values.emplace("REDIS_DATA_PASSWORD", data_password);
    values.emplace("REDIS_COORDINATOR_PASSWORD", coordinator_password);
    values.emplace("CONTROL_PLANE_KEY", control_plane_key);
    values.emplace("ADMIN_TOKEN", admin_token);
    return lookup_of(std::move(values));
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

// Only the given variables: no default password.
std::string error_without_defaults(ConfigUser user, std::map<std::string, std::string> values) {
    try {
        parse_config(minimal, lookup_of(std::move(values)), user, "host");
    } catch (const ConfigError& error) {
        return error.what();
    }
    return "";
}

TEST(Config, EachServiceReadsOnlyItsOwnRedisPassword) {
    const DeploymentConfig slave = parse_config(minimal, env_of({}), ConfigUser::slave, "host");
    EXPECT_EQ(slave.redis.data_password, data_password);
    EXPECT_EQ(slave.redis.coordinator_password, "");
    const DeploymentConfig lb = parse_config(minimal, env_of({}), ConfigUser::lb, "host");
    EXPECT_EQ(lb.redis.coordinator_password, coordinator_password);
    EXPECT_EQ(lb.redis.data_password, "");
}

TEST(Config, BothServicesNeedTheControlPlaneKeyAndOnlyTheLbTheAdminToken) {
    const DeploymentConfig slave = parse_config(minimal, env_of({}), ConfigUser::slave, "host");
    EXPECT_EQ(slave.control_plane_key, control_plane_key);
    EXPECT_EQ(slave.admin_token, "");
    const DeploymentConfig lb = parse_config(minimal, env_of({}), ConfigUser::lb, "host");
    EXPECT_EQ(lb.control_plane_key, control_plane_key);
    EXPECT_EQ(lb.admin_token, admin_token);
    const std::map<std::string, std::string> passwords{{"REDIS_DATA_PASSWORD", data_password},
                                                       {"REDIS_COORDINATOR_PASSWORD", coordinator_password}};
    EXPECT_NE(error_without_defaults(ConfigUser::slave, passwords).find("missing CONTROL_PLANE_KEY"), std::string::npos);
    auto with_key = passwords;
    with_key.emplace("CONTROL_PLANE_KEY", control_plane_key);
    EXPECT_EQ(error_without_defaults(ConfigUser::slave, with_key), "");
    EXPECT_NE(error_without_defaults(ConfigUser::lb, with_key).find("missing ADMIN_TOKEN"), std::string::npos);
    // A key is 32 characters at least: 16 would do for a password, not for what signs elections.
    const std::string short_key = error_of(minimal, {{"CONTROL_PLANE_KEY", "sixteen-chars-01"}});
    EXPECT_NE(short_key.find("CONTROL_PLANE_KEY must hold 32 to 256 characters"), std::string::npos) << short_key;
    EXPECT_EQ(short_key.find("sixteen-chars-01"), std::string::npos);
    EXPECT_NE(error_of(R"({"cluster": {"host_template": "s-{i}", "size": 3, "index": 0},
                          "admin": {"token": "in-a-configmap-00000000000000000000"}})")
                  .find("field admin.token is a secret"),
              std::string::npos);
}

TEST(Config, PasswordsAreRequiredAndErrorsNameTheVariableNotTheValue) {
    EXPECT_NE(error_without_defaults(ConfigUser::slave, {}).find("missing REDIS_DATA_PASSWORD (or REDIS_DATA_PASSWORD_FILE)"),
              std::string::npos);
    EXPECT_NE(error_without_defaults(ConfigUser::lb, {}).find("REDIS_COORDINATOR_PASSWORD"), std::string::npos);
    const std::string too_short = error_of(minimal, {{"REDIS_DATA_PASSWORD", "tiny-secret"}});
    EXPECT_NE(too_short.find("REDIS_DATA_PASSWORD"), std::string::npos);
    EXPECT_EQ(too_short.find("tiny-secret"), std::string::npos);
    const std::string quoted = error_of(minimal, {{"REDIS_DATA_PASSWORD", "has a space and \"quotes\" 123"}});
    EXPECT_NE(quoted.find("REDIS_DATA_PASSWORD"), std::string::npos);
    EXPECT_EQ(quoted.find("space"), std::string::npos);
    EXPECT_NE(error_without_defaults(ConfigUser::slave, {{"REDIS_DATA_PASSWORD", data_password},
                                                         {"REDIS_DATA_PASSWORD_FILE", "/nonexistent"}})
                  .find("set one"),
              std::string::npos);
}

TEST(Config, PasswordFromAFileWithoutItsNewline) {
    char path[] = "/tmp/cdb-secret-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    std::ofstream(path) << "password-from-a-file-01\n";
    const DeploymentConfig config = parse_config(minimal, lookup_of({{"REDIS_DATA_PASSWORD_FILE", path}, {"CONTROL_PLANE_KEY", control_plane_key}}),
                                                 ConfigUser::slave, "host");
    std::remove(path);
    EXPECT_EQ(config.redis.data_password, "password-from-a-file-01");
    EXPECT_NE(error_without_defaults(ConfigUser::slave, {{"REDIS_DATA_PASSWORD_FILE", "/nonexistent/secret"}})
                  .find("cannot read the file /nonexistent/secret named by REDIS_DATA_PASSWORD_FILE"),
              std::string::npos);
}

TEST(Config, APasswordInTheFileIsRefused) {
    const std::string error =
        error_of(R"({"cluster": {"host_template": "s-{i}", "size": 3, "index": 0},
                     "redis": {"data_password": "in-a-configmap-000"}})");
    EXPECT_NE(error.find("field redis.data_password is a secret"), std::string::npos) << error;
    EXPECT_EQ(error.find("in-a-configmap"), std::string::npos);
}

TEST(Config, EnvNameFollowsThePath) {
    EXPECT_EQ(env_name_for("redis.command_timeout_ms"), "REDIS_COMMAND_TIMEOUT_MS");
    EXPECT_EQ(env_name_for("log_level"), "LOG_LEVEL");
}

}  // namespace
}  // namespace cdb

namespace cdb {
namespace {

// Issue 24: the schema took probe intervals up to 600 000 ms, whose lease (P + 300) the coordinator
// refuses past 60 000: the LB then exited "cannot start" instead of a config error naming the field.
TEST(Config, EveryProbeIntervalTheSchemaTakesGivesTimingsTheCoordinatorTakes) {
    const ConfigField* field = find_config_field("election.probe_interval_ms");
    ASSERT_NE(field, nullptr);
    const auto coordinator_config = [](long long probe_interval_ms) {
        const auto timings = coordination::election_timings(probe_interval_ms, DeploymentConfig{}.http.upstream_timeout_ms);
        coordination::Config config;
        config.lease_ms = timings.lease;
        config.recovery_window_ms = timings.recovery_window;
        return config;
    };
    for (long long probe_interval_ms : {field->min, 200LL, field->max}) {
        EXPECT_NO_THROW(coordination::validate(coordinator_config(probe_interval_ms))) << probe_interval_ms;
    }
    EXPECT_THROW(coordination::validate(coordinator_config(field->max + 1)), std::invalid_argument);
}

}  // namespace
}  // namespace cdb
