#include "cdb/config.h"
#include "cdb/config_schema.h"
#include "cdb/coordination/timings.h"
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
#include <variant>

#include <unistd.h>

namespace cdb {
namespace {

using C = DeploymentConfig;

// Where parse_config stores a field. The defaults are DeploymentConfig's initializers: the schema
// reads them from a default-constructed one, so each is written once, typed.
using Member = std::variant<int& (*)(C&), std::string& (*)(C&), ReplicationMode& (*)(C&), std::optional<int>& (*)(C&)>;

struct Entry {
    ConfigField field;
    Member member;
};

constexpr int max_port = 65535;
constexpr int max_timeout_ms = 600000;
constexpr long long max_secret_length = 256;
constexpr const char* secret_characters = "A-Z a-z 0-9 - _ . ~ + / =";
const char* const replication_modes[] = {"none", "async", "sync"};  // as ReplicationMode, in order

Entry integer(std::string path, long long min, long long max, std::string description, int& (*member)(C&)) {
    ConfigField field;
    field.path = std::move(path);
    field.type = FieldType::integer;
    field.min = min;
    field.max = max;
    field.generator_value = true;
    field.description = std::move(description);
    return {std::move(field), member};
}

Entry text(std::string path, std::string description, std::string& (*member)(C&)) {
    ConfigField field;
    field.path = std::move(path);
    field.type = FieldType::text;
    field.generator_value = true;
    field.description = std::move(description);
    return {std::move(field), member};
}

Entry choice(std::string path, std::vector<std::string> choices, std::string description, Member member) {
    ConfigField field;
    field.path = std::move(path);
    field.type = FieldType::choice;
    field.choices = std::move(choices);
    field.generator_value = true;
    field.description = std::move(description);
    return {std::move(field), member};
}

Entry secret(std::string path, long long min_length, RequiredBy reader, std::string description,
             std::string& (*member)(C&)) {
    ConfigField field;
    field.path = std::move(path);
    field.type = FieldType::secret;
    field.min = min_length;
    field.max = max_secret_length;
    field.required_by = reader;
    field.description = std::move(description);
    return {std::move(field), member};
}

Entry required_by(RequiredBy services, Entry entry) {
    entry.field.required_by = services;
    return entry;
}

// cluster.* comes from the generator's --target and --replicas; containers always listen on
// 0.0.0.0 and have ports of their own (no port_step).
Entry not_for_the_generator(Entry entry) {
    entry.field.generator_value = false;
    return entry;
}

std::vector<Entry> make_entries() {
    std::vector<Entry> entries{
        not_for_the_generator(required_by(
            RequiredBy::both,
            text("cluster.host_template",
                 "host of cluster *i*: `slave-{i}` (Compose), `slave-{i}.slave` (Kubernetes), `127.0.0.1` (local: "
                 "no `{i}` needed when `port_step` > 0)",
                 [](C& c) -> std::string& { return c.cluster.host_template; }))),
        not_for_the_generator(required_by(RequiredBy::both, integer("cluster.size", 1, protocol::max_clusters,
                                                                    "number of clusters N",
                                                                    [](C& c) -> int& { return c.cluster.size; }))),
        not_for_the_generator(required_by(
            RequiredBy::slave,
            Entry{{"cluster.index", FieldType::integer, 0, protocol::max_clusters - 1, {}, "hostname",
                   RequiredBy::none, false, "",
                   "this slave's cluster; `\"hostname\"` takes the trailing `-N` of the host name (StatefulSet pods)"},
                  [](C& c) -> std::optional<int>& { return c.cluster.index; }})),
        not_for_the_generator(integer("cluster.port_step", 0, 1000,
                                      "cluster *i* uses `port + i*port_step` for its slave and Redis ports (local "
                                      "runs on one host)",
                                      [](C& c) -> int& { return c.cluster.port_step; })),
        not_for_the_generator(
            text("slave.bind", "slave listen address", [](C& c) -> std::string& { return c.slave.bind; })),
        integer("slave.port", 1, max_port, "slave HTTP port, the container port (of cluster 0 when `port_step` > 0)",
                [](C& c) -> int& { return c.slave.port; }),
        integer("slave.threads", 1, 64, "slave HTTP worker threads (each holds at most one Redis call at a time)",
                [](C& c) -> int& { return c.slave.threads; }),
        not_for_the_generator(text("lb.bind", "LB listen address", [](C& c) -> std::string& { return c.lb.bind; })),
        integer("lb.port", 1, max_port, "LB HTTP port, the container port", [](C& c) -> int& { return c.lb.port; }),
        integer("lb.threads", 0, 64,
                "LB threads. Each serves its own clients and forwards their requests in one event loop (no thread "
                "waits on a slave, no request changes threads), like an nginx worker. 0: one per CPU the LB may run "
                "on (its CPU affinity); in a container with a CPU limit but no cpuset, set the limit",
                [](C& c) -> int& { return c.lb.threads; }),
        not_for_the_generator(text("handover.lb_host",
             "host the slaves reach the LB at, to ask it to move the leadership off their cluster when they are "
             "told to stop (docs/PROTOCOL.md §10): `lb` (Compose service, Kubernetes Service), `127.0.0.1` (local)",
             [](C& c) -> std::string& { return c.handover.lb_host; })),
        integer("handover.lb_port", 0, max_port,
                "port the slaves reach the LB at; 0: `lb.port` (the Kubernetes Service has its own, "
                "`lb.servicePort`)",
                [](C& c) -> int& { return c.handover.lb_port; }),
        integer("handover.timeout_ms", 0, 60000,
                "longest a stopping slave waits for the LB to move the leadership off its cluster before it stops "
                "anyway (its Redis waits for it); 0: no hand-over. The stop grace period must cover it plus 2 s",
                [](C& c) -> int& { return c.handover.timeout_ms; }),
        integer("http.header_timeout_ms", 1, max_timeout_ms, "a client must send all headers within this time",
                [](C& c) -> int& { return c.http.header_timeout_ms; }),
        integer("http.body_timeout_ms", 1, max_timeout_ms, "a client must send the body within this time",
                [](C& c) -> int& { return c.http.body_timeout_ms; }),
        integer("http.upstream_connect_timeout_ms", 1, max_timeout_ms, "LB → slave connect timeout",
                [](C& c) -> int& { return c.http.upstream_connect_timeout_ms; }),
        integer("http.upstream_timeout_ms", 1, max_timeout_ms, "LB → slave total timeout per attempt",
                [](C& c) -> int& { return c.http.upstream_timeout_ms; }),
        integer("http.upstream_try_timeout_ms", 1, max_timeout_ms,
                "a read unanswered by then is tried on another slave, and that slave gets no new request until it "
                "answers (docs/PROTOCOL.md §8)",
                [](C& c) -> int& { return c.http.upstream_try_timeout_ms; }),
        integer("http.max_connections", 16, 1000000,
                "client connections each service keeps open at once. At the limit it accepts no more (they wait in "
                "the kernel's queue) and closes its idle keep-alive connections, the least recently used first, to "
                "make room. Lowered at start to what the descriptor limit allows (the soft limit is first raised to "
                "the hard one): a reserve of 64, then 2 descriptors per LB connection (one to a slave), 1 per slave "
                "connection (docs/SECURITY.md, \"Resource exhaustion\")",
                [](C& c) -> int& { return c.http.max_connections; }),
        integer("redis.port", 1, max_port, "Redis port, the container port (of cluster 0 when `port_step` > 0)",
                [](C& c) -> int& { return c.redis.port; }),
        integer("redis.connect_timeout_ms", 1, max_timeout_ms, "Redis connect timeout",
                [](C& c) -> int& { return c.redis.connect_timeout_ms; }),
        // From 2: replication.sync_timeout_ms, at least 1, must be below it.
        integer("redis.command_timeout_ms", 2, max_timeout_ms, "Redis read/write timeout per command",
                [](C& c) -> int& { return c.redis.command_timeout_ms; }),
        integer("redis.pool_size", 1, 64, "Redis connections per slave (to the leader)",
                [](C& c) -> int& { return c.redis.pool_size; }),
        secret("redis.data_password", 16, RequiredBy::slave,
               "password of Redis user `cdb-data`, the slave's login (docs/SECURITY.md)",
               [](C& c) -> std::string& { return c.redis.data_password; }),
        secret("redis.coordinator_password", 16, RequiredBy::lb,
               "password of Redis user `cdb-coordinator`, the LB's login (docs/SECURITY.md)",
               [](C& c) -> std::string& { return c.redis.coordinator_password; }),
        // 32, not 16: it signs elections, and the admin token guards resizing.
        secret("control_plane.key", 32, RequiredBy::both,
               "HMAC-SHA256 key that proves the LB's leader messages to the slaves (docs/PROTOCOL.md)",
               [](C& c) -> std::string& { return c.control_plane_key; }),
        secret("admin.token", 32, RequiredBy::lb, "bearer token of `PUT /lb/size` (docs/SECURITY.md)",
               [](C& c) -> std::string& { return c.admin_token; }),
        integer("limits.max_key_bytes", 1, 64 * 1024, "longer keys get 413",
                [](C& c) -> int& { return c.limits.max_key_bytes; }),
        integer("limits.max_value_bytes", 1, 64 * 1024 * 1024, "longer values get 413",
                [](C& c) -> int& { return c.limits.max_value_bytes; }),
        integer("limits.max_list_count", 1, 100000, "largest `count` accepted by `/list-keys`",
                [](C& c) -> int& { return c.limits.max_list_count; }),
        choice("replication.mode", {std::begin(replication_modes), std::end(replication_modes)},
               "`sync`: a write is acknowledged once a follower's Redis has it (`WAIT`, at most "
               "`replication.sync_timeout_ms`, else `degraded`); `async`: at once, replicated behind; `none`: no "
               "followers (docs/PROTOCOL.md §4)",
               [](C& c) -> ReplicationMode& { return c.replication.mode; }),
        // Up to max_timeout_ms - 1: it must be below redis.command_timeout_ms.
        integer("replication.sync_timeout_ms", 1, max_timeout_ms - 1,
                "longest `WAIT` for a follower before the write is acknowledged as degraded",
                [](C& c) -> int& { return c.replication.sync_timeout_ms; }),
        integer("election.failure_threshold", 1, 100, "consecutive leader failures that start an election",
                [](C& c) -> int& { return c.election.failure_threshold; }),
        // At most what keeps the lease derived from it within the coordinator's range.
        integer("election.probe_interval_ms", 10, coordination::max_probe_interval_ms,
                "LB probe period; the slaves' lease on the leader lasts this plus " +
                    std::to_string(coordination::lease_margin_ms) +
                    " ms, and a new leader waits for the old one's leases to end (docs/ELECTION.md, \"Timings\")",
                [](C& c) -> int& { return c.election.probe_interval_ms; }),
        choice("log_level", {"trace", "debug", "info", "warn", "error", "critical", "off"},
               "an unknown level is an error", [](C& c) -> std::string& { return c.log_level; }),
    };
    const DeploymentConfig defaults;
    for (Entry& entry : entries) {
        if (entry.field.required_by != RequiredBy::none || entry.field.type == FieldType::secret) continue;
        DeploymentConfig copy = defaults;
        entry.field.default_text = std::visit(
            [&](auto member) -> std::string {
                const auto& value = member(copy);
                using T = std::decay_t<decltype(value)>;
                if constexpr (std::is_same_v<T, int>) return std::to_string(value);
                else if constexpr (std::is_same_v<T, std::string>) return value;
                else if constexpr (std::is_same_v<T, ReplicationMode>) return to_string(value);
                else return value ? std::to_string(*value) : "";
            },
            entry.member);
    }
    return entries;
}

const std::vector<Entry>& entries() {
    static const std::vector<Entry> table = make_entries();
    return table;
}

// One configuration value as found, either in the file (JSON) or in the environment (text).
struct RawValue {
    const rapidjson::Value* json = nullptr;
    std::optional<std::string> env;
    std::string origin;  // "file field x.y" or "environment variable X_Y", for error messages
};

[[noreturn]] void fail(const RawValue& raw, const std::string& problem) {
    throw ConfigError("invalid configuration: " + raw.origin + " " + problem);
}

// The value as the environment would give it. JSON types must match the field's: 8080 is a port,
// "8080" is not.
std::string as_text(const ConfigField& field, const RawValue& raw) {
    if (raw.env) return *raw.env;
    const rapidjson::Value& json = *raw.json;
    if (field.type != FieldType::integer) {
        if (!json.IsString()) fail(raw, "must be a string");
        return json.GetString();
    }
    if (json.IsInt64()) return std::to_string(json.GetInt64());
    if (!field.word_for_integer.empty() && json.IsString() && json.GetString() == field.word_for_integer) {
        return field.word_for_integer;
    }
    fail(raw, "must be an integer");
}

// StatefulSet pods are named <set>-<ordinal>: the ordinal is the cluster index.
int index_from_hostname(const RawValue& raw, const std::string& hostname) {
    const auto dash = hostname.rfind('-');
    const std::string ordinal = dash == std::string::npos ? "" : hostname.substr(dash + 1);
    const bool digits = !ordinal.empty() && std::all_of(ordinal.begin(), ordinal.end(),
                                                        [](unsigned char ch) { return std::isdigit(ch); });
    if (!digits || ordinal.size() > 3) {
        fail(raw, "is \"hostname\" but host name \"" + hostname + "\" does not end in -<number>");
    }
    const int index = std::stoi(ordinal);
    if (index >= protocol::max_clusters) {
        fail(raw, "is \"hostname\" but host name \"" + hostname + "\" names a cluster above " +
                      std::to_string(protocol::max_clusters - 1));
    }
    return index;
}

void apply(const Entry& entry, DeploymentConfig& config, const RawValue& raw, const std::string& hostname) {
    const std::string value = as_text(entry.field, raw);
    if (auto refusal = value_refusal(entry.field, value)) fail(raw, *refusal);
    std::visit(
        [&](auto member) {
            auto& target = member(config);
            using T = std::decay_t<decltype(target)>;
            if constexpr (std::is_same_v<T, int>) {
                target = std::stoi(value);
            } else if constexpr (std::is_same_v<T, std::string>) {
                target = value;
            } else if constexpr (std::is_same_v<T, ReplicationMode>) {
                const auto position = std::find(std::begin(replication_modes), std::end(replication_modes), value);
                target = static_cast<ReplicationMode>(position - std::begin(replication_modes));
            } else {
                target = value == entry.field.word_for_integer ? index_from_hostname(raw, hostname) : std::stoi(value);
            }
        },
        entry.member);
}

bool valid_secret(const ConfigField& field, const std::string& secret) {
    const auto length = static_cast<long long>(secret.size());
    if (length < field.min || length > field.max) return false;
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

// A secret is read only from the environment: VAR, or the file named by VAR_FILE (how Docker and
// Kubernetes mount secrets), never from the configuration file, which ends up in a ConfigMap.
// Error messages name the variable, never the value.
std::string read_secret(const ConfigField& secret, const EnvLookup& env) {
    const std::string variable = env_name_for(secret.path);
    const std::string file_variable = variable + "_FILE";
    const auto value = env(variable);
    const auto file = env(file_variable);
    if (value && file) {
        throw ConfigError("invalid configuration: both " + variable + " and " + file_variable + " are set; set one");
    }
    if (!value && !file) {
        throw ConfigError("invalid configuration: missing " + variable + " (or " + file_variable + "): " +
                          secret.description);
    }
    const std::string text = value ? *value : read_secret_file(file_variable, *file);
    if (auto refusal = value_refusal(secret, text)) {
        throw ConfigError("invalid configuration: " +
                          (value ? "environment variable " + variable : "the file named by " + file_variable) + " " +
                          *refusal);
    }
    return text;
}

bool required_of(const ConfigField& field, ConfigUser user) {
    switch (field.required_by) {
        case RequiredBy::none: return false;
        case RequiredBy::slave: return user == ConfigUser::slave;
        case RequiredBy::lb: return user == ConfigUser::lb;
        case RequiredBy::both: return true;
    }
    return false;
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
void reject_unknown(const rapidjson::Value& node, const std::string& prefix) {
    const auto& fields = config_schema();
    for (auto it = node.MemberBegin(); it != node.MemberEnd(); ++it) {
        const std::string path = prefix.empty() ? it->name.GetString() : prefix + "." + it->name.GetString();
        const ConfigField* field = find_config_field(path);
        if (field && field->type == FieldType::secret) {
            throw ConfigError("invalid configuration: field " + path +
                              " is a secret and is never read from the file; use " + env_name_for(path) + " or " +
                              env_name_for(path) + "_FILE");
        }
        if (field) continue;
        const bool is_section = std::any_of(fields.begin(), fields.end(), [&](const ConfigField& f) {
            return f.path.rfind(path + ".", 0) == 0;
        });
        if (is_section && it->value.IsObject()) {
            reject_unknown(it->value, path);
        } else {
            throw ConfigError("invalid configuration: unknown field " + path + " in the file");
        }
    }
}

int& integer_member(const std::string& path, DeploymentConfig& config) {
    for (const Entry& entry : entries()) {
        if (entry.field.path == path) return std::get<int& (*)(C&)>(entry.member)(config);
    }
    throw std::logic_error("config_relations names " + path + ", which is not an integer field");
}

void check_relations(DeploymentConfig& config) {
    for (const FieldRelation& relation : config_relations()) {
        const int value = integer_member(relation.field, config);
        const int other = integer_member(relation.other, config);
        const bool holds = relation.comparison == Comparison::at_most ? value <= other : value < other;
        if (!holds) {
            throw ConfigError("invalid configuration: field " + relation.field + " (" + std::to_string(value) + ") " +
                              to_string(relation.comparison) + " " + relation.other + " (" + std::to_string(other) +
                              ")");
        }
    }
}

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
    reject_unknown(document, "");

    DeploymentConfig config;
    for (const Entry& entry : entries()) {
        const ConfigField& field = entry.field;
        if (field.type == FieldType::secret) continue;
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
            apply(entry, config, raw, hostname);
        } else if (required_of(field, user)) {
            throw ConfigError("invalid configuration: missing field " + field.path + " (or environment variable " +
                              variable + ")");
        }
    }
    for (const Entry& entry : entries()) {
        const ConfigField& field = entry.field;
        if (field.type == FieldType::secret && secrets_policy == Secrets::read && required_of(field, user)) {
            std::get<std::string& (*)(C&)>(entry.member)(config) = read_secret(field, env);
        }
    }
    const bool template_varies = config.cluster.host_template.find("{i}") != std::string::npos;
    if (!template_varies && config.cluster.port_step == 0 && config.cluster.size > 1) {
        throw ConfigError(
            "invalid configuration: field cluster.host_template must contain {i} unless cluster.port_step > 0, "
            "otherwise every cluster has the same address");
    }
    check_relations(config);
    return config;
}

}  // namespace

const std::vector<ConfigField>& config_schema() {
    static const std::vector<ConfigField> fields = [] {
        std::vector<ConfigField> copy;
        for (const Entry& entry : entries()) copy.push_back(entry.field);
        return copy;
    }();
    return fields;
}

const ConfigField* find_config_field(const std::string& path) {
    for (const ConfigField& field : config_schema()) {
        if (field.path == path) return &field;
    }
    return nullptr;
}

const std::vector<FieldRelation>& config_relations() {
    static const std::vector<FieldRelation> relations{
        {"http.upstream_try_timeout_ms", Comparison::at_most, "http.upstream_timeout_ms"},
        // WAIT blocks the connection: a longer wait than the read timeout would turn every degraded
        // write into a connection error.
        {"replication.sync_timeout_ms", Comparison::below, "redis.command_timeout_ms"},
    };
    return relations;
}

const char* to_string(Comparison comparison) {
    return comparison == Comparison::at_most ? "must not exceed" : "must be below";
}

std::string accepted_values(const ConfigField& field) {
    switch (field.type) {
        case FieldType::integer: {
            std::string range = "an integer from " + std::to_string(field.min) + " to " + std::to_string(field.max);
            return field.word_for_integer.empty() ? range : range + ", or \"" + field.word_for_integer + "\"";
        }
        case FieldType::text: return "a non-empty string";
        case FieldType::choice: {
            std::string list = "one of ";
            for (const std::string& choice : field.choices) list += (&choice == &field.choices.front() ? "" : ", ") + choice;
            return list;
        }
        case FieldType::secret:
            return std::to_string(field.min) + " to " + std::to_string(field.max) + " characters among " +
                   secret_characters;
    }
    return "?";
}

std::optional<std::string> value_refusal(const ConfigField& field, const std::string& text) {
    switch (field.type) {
        case FieldType::integer: {
            if (!field.word_for_integer.empty() && text == field.word_for_integer) return std::nullopt;
            errno = 0;
            char* end = nullptr;
            const long long value = std::strtoll(text.c_str(), &end, 10);
            if (text.empty() || *end != '\0' || errno == ERANGE) return "must be an integer, got \"" + text + "\"";
            if (value < field.min || value > field.max) {
                return "must be between " + std::to_string(field.min) + " and " + std::to_string(field.max) +
                       ", got " + std::to_string(value);
            }
            return std::nullopt;
        }
        case FieldType::text:
            if (text.empty()) return std::string("must not be empty");
            return std::nullopt;
        case FieldType::choice:
            if (std::find(field.choices.begin(), field.choices.end(), text) != field.choices.end()) return std::nullopt;
            return "must be " + accepted_values(field) + "; got \"" + text + "\"";
        case FieldType::secret:
            if (valid_secret(field, text)) return std::nullopt;
            return "must hold " + accepted_values(field) + " (value not shown)";
    }
    return std::nullopt;
}

const char* to_string(ReplicationMode mode) { return replication_modes[static_cast<int>(mode)]; }

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
