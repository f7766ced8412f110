#pragma once
// The deployment configuration shared by `slave` and `lb` (docs/CONFIG.md): a JSON file, then one
// environment variable per field on top. Its fields, ranges and descriptions: cdb/config_schema.h;
// its defaults: the initializers below.
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "cdb/config_schema.h"

namespace cdb {

enum class ReplicationMode { none, async, sync };
const char* to_string(ReplicationMode mode);

struct ClusterConfig {
    std::string host_template;
    int size = 0;
    std::optional<int> index;  // only the slave needs it
    int port_step = 0;
};

struct ListenConfig {
    std::string bind = "0.0.0.0";
    int port = 8080;
    int threads = 4;
};

struct HttpConfig {
    int header_timeout_ms = 1000;
    int body_timeout_ms = 5000;
    int upstream_connect_timeout_ms = 300;
    int upstream_timeout_ms = 2000;
    // A read that has no answer by then is tried on another slave, and its slave is left out of new
    // requests until it answers again (docs/PROTOCOL.md §8): a frozen slave costs this, not the above.
    int upstream_try_timeout_ms = 150;
    // Client connections a service keeps open at once (fewer when its descriptor limit allows fewer).
    int max_connections = 4096;
};

// The Redis ACL users the services log in as (docs/SECURITY.md). docker/redis-run defines them.
inline constexpr const char* redis_data_user = "cdb-data";
inline constexpr const char* redis_coordinator_user = "cdb-coordinator";

struct RedisConfig {
    int port = 6379;
    int connect_timeout_ms = 200;
    int command_timeout_ms = 500;
    int pool_size = 4;
    // Secrets, read from the environment only: each service reads the one it logs in with.
    std::string data_password;         // the slave's, user cdb-data
    std::string coordinator_password;  // the LB's, user cdb-coordinator
};

struct LimitsConfig {
    int max_key_bytes = 512;
    int max_value_bytes = 1024 * 1024;
    int max_list_count = 1000;
};

struct ReplicationConfig {
    ReplicationMode mode = ReplicationMode::sync;
    int sync_timeout_ms = 100;
};

struct ElectionConfig {
    int failure_threshold = 3;
    int probe_interval_ms = 200;
};

// How a slave that is told to stop hands its cluster's leadership over first (docs/PROTOCOL.md §10).
struct HandoverConfig {
    std::string lb_host = "lb";  // where the slave reaches the LB: its Compose service, its Kubernetes Service
    int lb_port = 0;             // 0: lb.port (the Kubernetes Service has a port of its own)
    int timeout_ms = 4000;       // the longest the slave waits for the LB before it stops anyway; 0: no hand-over
};

struct DeploymentConfig {
    ClusterConfig cluster;
    ListenConfig slave;
    // LB threads never wait on slaves: each forwards its own requests and reads their answers in one
    // event loop, like an nginx worker. 0: one per CPU this process may run on (docs/BENCHMARKS.md).
    ListenConfig lb{"0.0.0.0", 8080, 0};
    HttpConfig http;
    RedisConfig redis;
    LimitsConfig limits;
    ReplicationConfig replication;
    ElectionConfig election;
    HandoverConfig handover;
    std::string log_level = "info";
    // Secrets, read from the environment only (docs/SECURITY.md).
    std::string control_plane_key;  // both services: proves that a control message comes from the LB
    std::string admin_token;        // the LB's: authorizes PUT /lb/size
};

// A configuration problem that names the field; mains print it and exit with status 2.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Looks up an environment variable; injectable so tests need not touch the real environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();

enum class ConfigUser { slave, lb };

// Parses `json_text` (empty means "no file"), applies environment overrides, validates.
// `hostname` resolves `cluster.index = "hostname"`. The secrets `user` needs (its Redis password,
// CONTROL_PLANE_KEY, the LB's ADMIN_TOKEN) come from VAR or from the file named by VAR_FILE; they
// are required.
DeploymentConfig parse_config(const std::string& json_text, const EnvLookup& env, ConfigUser user,
                              const std::string& hostname);

// Checks a configuration file as parse_config does (every field's type and range, unknown fields,
// the rules between fields), without environment variables and without secrets: what the generator
// checks before it writes a deployment, so that it never writes one the services refuse.
// Throws ConfigError.
void check_config_file(const std::string& json_text, ConfigUser user);

// Reads the file named by `path` (or by $CONFIG_FILE when `path` is empty; neither means no file).
DeploymentConfig load_config(const std::string& path, ConfigUser user);

}  // namespace cdb
