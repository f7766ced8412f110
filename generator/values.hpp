#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gen {

enum class ValueType { integer, boolean, string };

const char* to_string(ValueType type);

// One leaf of the values tree. `text` is canonical: integers without sign noise, booleans as
// true/false, strings as given.
struct Value {
    ValueType type = ValueType::string;
    std::string text;
};

// The `## @param key description` comment written above a key of values.yaml.
struct ValueDoc {
    std::string key;
    std::string description;
};

// The text of generator/values.yaml, compiled into the binary (see default_values.cpp.in).
const char* default_values_text();

// The @param comments of a values file, in file order.
std::vector<ValueDoc> parse_value_docs(const std::string& values_text);

// Every default value's documentation: the @param comments of values.yaml, then the descriptions of
// the `config.*` values from the services' configuration schema.
std::vector<ValueDoc> value_docs();

// Helm-like values: the defaults define every key and its type; files and --set only replace leaves.
// The defaults are values.yaml's, then the `config.*` ones of the services' configuration schema.
class Values {
public:
    // The embedded defaults, checked against the rules (value_rules.hpp).
    static Values defaults();
    // Defaults read from `text` instead (tests use it to check their own default files).
    static Values from_defaults_text(const std::string& text, const std::string& origin);

    // Merges a YAML values file over the current values.
    void merge_file(const std::string& path);
    void merge_text(const std::string& yaml_text, const std::string& origin);
    // Applies one `key.path=value` assignment.
    void set(const std::string& assignment);

    int integer(const std::string& key) const;
    bool boolean(const std::string& key) const;
    const std::string& string(const std::string& key) const;
    const Value& value(const std::string& key) const;

    // All leaves in the order of the defaults file: the output follows it, so it is deterministic.
    const std::vector<std::pair<std::string, Value>>& leaves() const { return leaves_; }

private:
    void add_default(const std::string& key, const Value& value, const std::string& origin);
    void assign(const std::string& key, const std::string& text, bool quoted, const std::string& origin);
    // Throws unless `key` names a leaf (not a section, not unknown).
    void require_leaf(const std::string& key, const std::string& origin) const;
    bool is_section(const std::string& key) const;
    const Value& typed(const std::string& key, ValueType type) const;

    std::vector<std::pair<std::string, Value>> leaves_;
    std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace gen
