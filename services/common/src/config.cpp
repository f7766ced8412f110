#include "cdb/config.h"
#include "cdb/protocol.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace cdb {
namespace {

// One configuration value as found, either in the file (JSON) or in the environment (text).
struct RawValue {
    const rapidjson::Value* json = nullptr;
    std::optional<std::string> env;
    std::string origin;  // "file field x.y" or "environment variable X_Y", for error messages
};

struct Field {
    std::string path;
    bool required_for_slave = false;
    bool required_for_lb = false;
    std::function<void(DeploymentConfig&, const RawValue&)> apply;
};

[[noreturn]] void fail(const RawValue& raw, const std::string& problem) {
    throw ConfigError("invalid configuration: " + raw.origin + " " + problem);
}

int read_int(const RawValue& raw, int min, int max) {
    long long value = 0;
    if (raw.env) {
        const std::string& text = *raw.env;
        errno = 0;
        char* end = nullptr;
        value = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || errno == ERANGE) fail(raw, "must be an integer, got \"" + text + "\"");
    } else {
        if (!raw.json->IsInt64()) fail(raw, "must be an integer");
        value = raw.json->GetInt64();
    }
    if (value < min || value > max) {
        fail(raw, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                      std::to_string(value));
    }
    return static_cast<int>(value);
}

std::string read_text(const RawValue& raw) {
    if (raw.env) return *raw.env;
    if (!raw.json->IsString()) fail(raw, "must be a string");
    return raw.json->GetString();
}

template <typename Access>
Field integer(std::string path, int min, int max, Access access) {
    return Field{std::move(path), false, false,
                 [=](DeploymentConfig& c, const RawValue& raw) { access(c) = read_int(raw, min, max); }};
}

template <typename Access>
Field text(std::string path, Access access) {
    return Field{std::move(path), false, false, [=](DeploymentConfig& c, const RawValue& raw) {
                     std::string value = read_text(raw);
                     if (value.empty()) fail(raw, "must not be empty");
                     access(c) = std::move(value);
                 }};
}

Field required(Field field) {
    field.required_for_slave = field.required_for_lb = true;
    return field;
}

constexpr int max_port = 65535;
constexpr int max_timeout_ms = 600000;

std::vector<Field> fields(const std::string& hostname) {
    using C = DeploymentConfig;
    Field cluster_index{"cluster.index", true, false, [hostname](C& c, const RawValue& raw) {
                            const bool by_hostname = raw.env ? *raw.env == "hostname"
                                                             : raw.json->IsString() &&
                                                                   std::string(raw.json->GetString()) == "hostname";
                            if (!by_hostname) {
                                c.cluster.index = read_int(raw, 0, protocol::max_clusters - 1);
                                return;
                            }
                            // StatefulSet pods are named <set>-<ordinal>: the ordinal is the index.
                            const auto dash = hostname.rfind('-');
                            const std::string ordinal = dash == std::string::npos ? "" : hostname.substr(dash + 1);
                            const bool digits = !ordinal.empty() &&
                                                std::all_of(ordinal.begin(), ordinal.end(),
                                                            [](unsigned char ch) { return std::isdigit(ch); });
                            if (!digits || ordinal.size() > 3) {
                                fail(raw, "is \"hostname\" but host name \"" + hostname + "\" does not end in -<number>");
                            }
                            c.cluster.index = std::stoi(ordinal);
                            if (*c.cluster.index >= protocol::max_clusters) {
                                fail(raw, "is \"hostname\" but host name \"" + hostname + "\" names a cluster above " +
                                              std::to_string(protocol::max_clusters - 1));
                            }
                        }};
    Field replication_mode{"replication.mode", false, false, [](C& c, const RawValue& raw) {
                               const std::string mode = read_text(raw);
                               if (mode == "none") c.replication.mode = ReplicationMode::none;
                               else if (mode == "async") c.replication.mode = ReplicationMode::async;
                               else if (mode == "sync") c.replication.mode = ReplicationMode::sync;
                               else fail(raw, "must be one of none, async, sync; got \"" + mode + "\"");
                           }};
    Field log_level{"log_level", false, false, [](C& c, const RawValue& raw) {
                        static const char* const levels[] = {"trace", "debug", "info", "warn",
                                                             "error", "critical", "off"};
                        const std::string level = read_text(raw);
                        if (std::find(std::begin(levels), std::end(levels), level) == std::end(levels)) {
                            fail(raw, "must be one of trace, debug, info, warn, error, critical, off; got \"" +
                                          level + "\"");
                        }
                        c.log_level = level;
                    }};
    return {
        required(text("cluster.host_template", [](C& c) -> std::string& { return c.cluster.host_template; })),
        required(integer("cluster.size", 1, protocol::max_clusters, [](C& c) -> int& { return c.cluster.size; })),
        cluster_index,
        integer("cluster.port_step", 0, 1000, [](C& c) -> int& { return c.cluster.port_step; }),
        text("slave.bind", [](C& c) -> std::string& { return c.slave.bind; }),
        integer("slave.port", 1, max_port, [](C& c) -> int& { return c.slave.port; }),
        integer("slave.threads", 1, 64, [](C& c) -> int& { return c.slave.threads; }),
        text("lb.bind", [](C& c) -> std::string& { return c.lb.bind; }),
        integer("lb.port", 1, max_port, [](C& c) -> int& { return c.lb.port; }),
        integer("lb.threads", 0, 64, [](C& c) -> int& { return c.lb.threads; }),
        integer("http.header_timeout_ms", 1, max_timeout_ms, [](C& c) -> int& { return c.http.header_timeout_ms; }),
        integer("http.body_timeout_ms", 1, max_timeout_ms, [](C& c) -> int& { return c.http.body_timeout_ms; }),
        integer("http.upstream_connect_timeout_ms", 1, max_timeout_ms,
                [](C& c) -> int& { return c.http.upstream_connect_timeout_ms; }),
        integer("http.upstream_timeout_ms", 1, max_timeout_ms, [](C& c) -> int& { return c.http.upstream_timeout_ms; }),
        integer("http.upstream_try_timeout_ms", 1, max_timeout_ms,
                [](C& c) -> int& { return c.http.upstream_try_timeout_ms; }),
        integer("http.max_connections", 16, 1000000, [](C& c) -> int& { return c.http.max_connections; }),
        integer("redis.port", 1, max_port, [](C& c) -> int& { return c.redis.port; }),
        integer("redis.connect_timeout_ms", 1, max_timeout_ms, [](C& c) -> int& { return c.redis.connect_timeout_ms; }),
        integer("redis.command_timeout_ms", 1, max_timeout_ms, [](C& c) -> int& { return c.redis.command_timeout_ms; }),
        integer("redis.pool_size", 1, 64, [](C& c) -> int& { return c.redis.pool_size; }),
        integer("limits.max_key_bytes", 1, 64 * 1024, [](C& c) -> int& { return c.limits.max_key_bytes; }),
        integer("limits.max_value_bytes", 1, 64 * 1024 * 1024, [](C& c) -> int& { return c.limits.max_value_bytes; }),
        integer("limits.max_list_count", 1, 100000, [](C& c) -> int& { return c.limits.max_list_count; }),
        replication_mode,
        integer("replication.sync_timeout_ms", 1, max_timeout_ms,
                [](C& c) -> int& { return c.replication.sync_timeout_ms; }),
        integer("election.failure_threshold", 1, 100, [](C& c) -> int& { return c.election.failure_threshold; }),
        integer("election.probe_interval_ms", 10, max_timeout_ms,
                [](C& c) -> int& { return c.election.probe_interval_ms; }),
        log_level,
    };
}

// A secret of docs/SECURITY.md, read only from the environment: VAR, or the file named by VAR_FILE
// (how Docker and Kubernetes mount secrets). Never from the configuration file, which ends up in a
// ConfigMap. Each service reads only the ones it needs.
struct Secret {
    std::string path;
    const char* what;  // for error messages
    bool slave_reads;
    bool lb_reads;
    std::size_t min_length;  // a password or token shorter than this is a mistake, not a choice
    std::string& (*member)(DeploymentConfig&);
};

const Secret secrets[] = {
    {"redis.data_password", "the password of Redis user cdb-data", true, false, 16,
     [](DeploymentConfig& c) -> std::string& { return c.redis.data_password; }},
    {"redis.coordinator_password", "the password of Redis user cdb-coordinator", false, true, 16,
     [](DeploymentConfig& c) -> std::string& { return c.redis.coordinator_password; }},
    {"control_plane.key", "the key that proves the LB's leader messages", true, true, 32,
     [](DeploymentConfig& c) -> std::string& { return c.control_plane_key; }},
    {"admin.token", "the token that PUT /lb/size requires", false, true, 32,
     [](DeploymentConfig& c) -> std::string& { return c.admin_token; }},
};

constexpr std::size_t max_secret_length = 256;

// The same rule as docker/redis-run, which writes the passwords into Redis's configuration: no
// character there needs quoting.
bool valid_secret(const std::string& secret, std::size_t min_length) {
    if (secret.size() < min_length || secret.size() > max_secret_length) return false;
    return std::all_of(secret.begin(), secret.end(), [](unsigned char ch) {
        return std::isalnum(ch) || std::string_view("-_.~+/=").find(static_cast<char>(ch)) != std::string_view::npos;
    });
}

std::string read_secret_file(const std::string& variable, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError("invalid configuration: cannot read the file " + path + " named by " + variable);
    std::ostringstream content;
    content << in.rdbuf();
    std::string text = content.str();
    // Secret files written by hand or by `echo` end with a newline that is not part of the secret.
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

// Error messages name the variable, never the value.
std::string read_secret(const Secret& secret, const EnvLookup& env) {
    const std::string variable = env_name_for(secret.path);
    const std::string file_variable = variable + "_FILE";
    const auto value = env(variable);
    const auto file = env(file_variable);
    if (value && file) {
        throw ConfigError("invalid configuration: both " + variable + " and " + file_variable + " are set; set one");
    }
    if (!value && !file) {
        throw ConfigError("invalid configuration: missing " + variable + " (or " + file_variable + "): " +
                          secret.what + " (docs/SECURITY.md)");
    }
    const std::string text = value ? *value : read_secret_file(file_variable, *file);
    if (!valid_secret(text, secret.min_length)) {
        throw ConfigError("invalid configuration: " +
                          (value ? "environment variable " + variable : "the file named by " + file_variable) +
                          " must hold " + std::to_string(secret.min_length) + " to " +
                          std::to_string(max_secret_length) +
                          " characters among A-Z a-z 0-9 - _ . ~ + / = (value not shown)");
    }
    return text;
}

const rapidjson::Value* find_path(const rapidjson::Value& root, const std::string& path) {
    const rapidjson::Value* node = &root;
    std::istringstream parts(path);
    std::string part;
    while (std::getline(parts, part, '.')) {
        if (!node->IsObject()) return nullptr;
        auto member = node->FindMember(part.c_str());
        if (member == node->MemberEnd()) return nullptr;
        node = &member->value;
    }
    return node;
}

// Every leaf of the file must be a known field: a typo must not silently fall back to a default.
void reject_unknown(const rapidjson::Value& node, const std::string& prefix, const std::vector<Field>& known) {
    for (auto it = node.MemberBegin(); it != node.MemberEnd(); ++it) {
        const std::string path = prefix.empty() ? it->name.GetString() : prefix + "." + it->name.GetString();
        const bool is_field =
            std::any_of(known.begin(), known.end(), [&](const Field& f) { return f.path == path; });
        if (is_field) continue;
        const bool is_section = std::any_of(known.begin(), known.end(),
                                            [&](const Field& f) { return f.path.rfind(path + ".", 0) == 0; });
        if (is_section && it->value.IsObject()) {
            reject_unknown(it->value, path, known);
        } else {
            throw ConfigError("invalid configuration: unknown field " + path + " in the file");
        }
    }
}

}  // namespace

const char* to_string(ReplicationMode mode) {
    switch (mode) {
        case ReplicationMode::none: return "none";
        case ReplicationMode::async: return "async";
        case ReplicationMode::sync: return "sync";
    }
    return "?";
}

std::string env_name_for(const std::string& field_path) {
    std::string name = field_path;
    for (char& ch : name) ch = ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return name;
}

EnvLookup process_environment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

namespace {

enum class Secrets { read, ignored };

DeploymentConfig parse(const std::string& json_text, const EnvLookup& env, ConfigUser user, const std::string& hostname,
                       Secrets secrets_policy) {
    rapidjson::Document document;
    document.SetObject();
    if (!json_text.empty()) {
        document.Parse(json_text.c_str(), json_text.size());
        if (document.HasParseError()) {
            throw ConfigError(std::string("invalid configuration file: ") +
                              rapidjson::GetParseError_En(document.GetParseError()) + " at offset " +
                              std::to_string(document.GetErrorOffset()));
        }
        if (!document.IsObject()) throw ConfigError("invalid configuration file: the top level must be an object");
    }
    for (const Secret& secret : secrets) {
        if (find_path(document, secret.path)) {
            throw ConfigError("invalid configuration: field " + secret.path +
                              " is a secret and is never read from the file; use " + env_name_for(secret.path) +
                              " or " + env_name_for(secret.path) + "_FILE");
        }
    }
    const std::vector<Field> known = fields(hostname);
    reject_unknown(document, "", known);

    DeploymentConfig config;
    for (const Field& field : known) {
        RawValue raw;
        const std::string variable = env_name_for(field.path);
        raw.env = env(variable);
        if (raw.env) {
            raw.origin = "environment variable " + variable;
        } else {
            raw.json = find_path(document, field.path);
            raw.origin = "field " + field.path;
        }
        if (raw.env || raw.json) {
            field.apply(config, raw);
            continue;
        }
        const bool required = user == ConfigUser::slave ? field.required_for_slave : field.required_for_lb;
        if (required) {
            throw ConfigError("invalid configuration: missing field " + field.path + " (or environment variable " +
                              variable + ")");
        }
    }
    for (const Secret& secret : secrets) {
        if (secrets_policy == Secrets::read && (user == ConfigUser::slave ? secret.slave_reads : secret.lb_reads)) {
            secret.member(config) = read_secret(secret, env);
        }
    }
    const bool template_varies = config.cluster.host_template.find("{i}") != std::string::npos;
    if (!template_varies && config.cluster.port_step == 0 && config.cluster.size > 1) {
        throw ConfigError(
            "invalid configuration: field cluster.host_template must contain {i} unless cluster.port_step > 0, "
            "otherwise every cluster has the same address");
    }
    if (config.http.upstream_try_timeout_ms > config.http.upstream_timeout_ms) {
        throw ConfigError("invalid configuration: field http.upstream_try_timeout_ms (" +
                          std::to_string(config.http.upstream_try_timeout_ms) +
                          ") must not exceed http.upstream_timeout_ms (" +
                          std::to_string(config.http.upstream_timeout_ms) + ")");
    }
    if (config.replication.sync_timeout_ms >= config.redis.command_timeout_ms) {
        // WAIT blocks the connection: a longer wait than the read timeout would turn every degraded
        // write into a connection error.
        throw ConfigError("invalid configuration: field replication.sync_timeout_ms (" +
                          std::to_string(config.replication.sync_timeout_ms) +
                          ") must be below redis.command_timeout_ms (" +
                          std::to_string(config.redis.command_timeout_ms) + ")");
    }
    return config;
}

}  // namespace

DeploymentConfig parse_config(const std::string& json_text, const EnvLookup& env, ConfigUser user,
                              const std::string& hostname) {
    return parse(json_text, env, user, hostname, Secrets::read);
}

void check_config_file(const std::string& json_text, ConfigUser user) {
    parse(json_text, [](const std::string&) { return std::nullopt; }, user, "", Secrets::ignored);
}

DeploymentConfig load_config(const std::string& path, ConfigUser user) {
    std::string file = path;
    if (file.empty()) {
        if (const char* from_env = std::getenv("CONFIG_FILE")) file = from_env;
    }
    std::string text;
    if (!file.empty()) {
        std::ifstream in(file, std::ios::binary);
        if (!in) throw ConfigError("cannot read configuration file " + file);
        std::ostringstream content;
        content << in.rdbuf();
        text = content.str();
        if (text.empty()) throw ConfigError("configuration file " + file + " is empty");
    }
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return parse_config(text, process_environment(), user, host);
}

}  // namespace cdb
