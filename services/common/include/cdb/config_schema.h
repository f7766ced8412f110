#pragma once
// The one table of the deployment configuration's fields (docs/CONFIG.md): parse_config reads
// through it, the generator offers, checks and documents its `config.*` values with it, and
// docs/CONFIG.md's field table is printed from it (`generator/generate --config-table`).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace cdb {

enum class FieldType {
    integer,  // a JSON integer, or decimal digits in the environment
    text,     // a non-empty string
    choice,   // one of `choices`
    secret,   // from the environment only: VAR or the file named by VAR_FILE (docs/SECURITY.md)
};

// Which service refuses to start without the field.
enum class RequiredBy { none, slave, lb, both };

struct ConfigField {
    std::string path;  // "slave.threads"
    FieldType type = FieldType::integer;
    long long min = 0;                  // integer: smallest accepted value; secret: shortest length
    long long max = 0;                  // integer: largest accepted value; secret: longest length
    std::vector<std::string> choices;   // choice only
    std::string word_for_integer;       // integer: a word accepted instead of a number ("hostname")
    RequiredBy required_by = RequiredBy::none;
    // True when `generator --set config.<path>` sets it. The generator decides cluster.* itself
    // (from --target and --replicas), containers always bind 0.0.0.0 and never use port_step, and
    // secrets never enter a generated file.
    bool generator_value = false;
    std::string default_text;  // as written in the file; empty for required fields and secrets
    std::string description;
};

const std::vector<ConfigField>& config_schema();

// The field at `path`, or nullptr.
const ConfigField* find_config_field(const std::string& path);

// Environment variable of a field: "redis.port" -> "REDIS_PORT".
std::string env_name_for(const std::string& field_path);

// What the field accepts, to complete "must be ...": "an integer from 1 to 64", "one of none, async,
// sync", "16 to 256 characters among A-Z a-z 0-9 - _ . ~ + / =".
std::string accepted_values(const ConfigField& field);

// Why parse_config refuses `text` as the value of `field` given in the environment, in its words
// ("must be between 1 and 64, got 500"), or nothing when it accepts it. Rules between fields
// (config_relations) are not checked here.
std::optional<std::string> value_refusal(const ConfigField& field, const std::string& text);

// A rule between two integer fields: `field` must be at most (or below) `other`.
enum class Comparison { at_most, below };
struct FieldRelation {
    std::string field;
    Comparison comparison;
    std::string other;
};

const std::vector<FieldRelation>& config_relations();

// "must not exceed" or "must be below".
const char* to_string(Comparison comparison);

}  // namespace cdb
