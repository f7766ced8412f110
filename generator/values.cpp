#include "values.hpp"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <sys/stat.h>

#include "generator_error.hpp"
#include "service_config.hpp"
#include "value_rules.hpp"
#include "yaml_tree.hpp"

namespace gen {
namespace {

bool parse_int(const std::string& text, long long& number) {
    static const std::regex integer("-?[0-9]+");
    if (!std::regex_match(text, integer)) return false;
    errno = 0;
    number = std::strtoll(text.c_str(), nullptr, 10);
    return errno == 0 && number >= INT_MIN && number <= INT_MAX;
}

// A quoted scalar (tag "!") is always a string; a plain one is what it reads as.
bool is_quoted(const YAML::Node& scalar) { return scalar.Tag() == "!"; }

Value infer_default(const YAML::Node& scalar) {
    const std::string& text = scalar.Scalar();
    long long number = 0;
    if (is_quoted(scalar)) return {ValueType::string, text};
    if (parse_int(text, number)) return {ValueType::integer, std::to_string(number)};
    if (text == "true" || text == "false") return {ValueType::boolean, text};
    return {ValueType::string, text};
}

std::string quote(const std::string& text) { return "\"" + text + "\""; }

// Converts user text to the type of the key's default. `quoted` marks a YAML string such as "8080",
// which a user wrote on purpose and which must not become a number.
Value convert(ValueType type, const std::string& text, bool quoted, const std::string& where) {
    long long number = 0;
    switch (type) {
        case ValueType::integer:
            if (quoted || !parse_int(text, number)) throw GeneratorError(where + " must be an integer, got " + quote(text));
            return {type, std::to_string(number)};
        case ValueType::boolean:
            if (quoted || (text != "true" && text != "false")) {
                throw GeneratorError(where + " must be true or false, got " + quote(text));
            }
            return {type, text};
        case ValueType::string:
            break;
    }
    return {type, text};
}

YAML::Node load_yaml(const std::string& text, const std::string& origin) {
    try {
        return YAML::Load(text);
    } catch (const YAML::Exception& error) {
        throw GeneratorError(origin + ": malformed YAML: " + error.what());
    }
}

std::string read_values_file(const std::string& path) {
    const std::string problem = "cannot read values file " + path + ": ";
    struct stat info {};
    if (stat(path.c_str(), &info) != 0) throw GeneratorError(problem + std::strerror(errno));
    // An ifstream opens a directory without complaint and reads nothing from it.
    if (S_ISDIR(info.st_mode)) throw GeneratorError(problem + "it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw GeneratorError(problem + std::strerror(errno));
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

}  // namespace

const char* to_string(ValueType type) {
    switch (type) {
        case ValueType::integer: return "int";
        case ValueType::boolean: return "bool";
        case ValueType::string: return "string";
    }
    return "?";
}

std::vector<ValueDoc> parse_value_docs(const std::string& values_text) {
    static const std::regex param_line("\\s*##\\s*@param\\s+(\\S+)\\s+(.*)");
    std::vector<ValueDoc> docs;
    std::istringstream lines(values_text);
    std::string line;
    std::smatch match;
    while (std::getline(lines, line)) {
        if (std::regex_match(line, match, param_line)) docs.push_back({match[1], match[2]});
    }
    return docs;
}

std::vector<ValueDoc> value_docs() {
    std::vector<ValueDoc> docs = parse_value_docs(default_values_text());
    for (const cdb::ConfigField& field : cdb::config_schema()) {
        if (field.generator_value) docs.push_back({config_prefix + field.path, field.description});
    }
    return docs;
}

Values Values::defaults() { return from_defaults_text(default_values_text(), "embedded values.yaml"); }

Values Values::from_defaults_text(const std::string& text, const std::string& origin) {
    const YAML::Node root = load_yaml(text, origin);
    if (!root.IsMap()) throw GeneratorError(origin + ": the top level must be a map");
    Values values;
    for_each_leaf(root, [&](const std::string& key, const YAML::Node& node) {
        if (key.compare(0, config_prefix.size(), config_prefix) == 0) {
            throw GeneratorError(origin + ": " + key +
                                 " must not be here: the config.* defaults are the services' own (cdb/config_schema.h)");
        }
        if (!node.IsScalar()) throw GeneratorError(origin + ": " + key + " must be a scalar with a default");
        values.add_default(key, infer_default(node), origin);
    });
    for (const cdb::ConfigField& field : cdb::config_schema()) {
        if (!field.generator_value) continue;
        const ValueType type = field.type == cdb::FieldType::integer ? ValueType::integer : ValueType::string;
        values.add_default(config_prefix + field.path, {type, field.default_text}, "the services' configuration schema");
    }
    return values;
}

void Values::add_default(const std::string& key, const Value& value, const std::string& origin) {
    if (auto problem = rule_violation(key, value)) throw GeneratorError(origin + ": " + key + " " + *problem);
    index_[key] = leaves_.size();
    leaves_.emplace_back(key, value);
}

void Values::merge_file(const std::string& path) { merge_text(read_values_file(path), "values file " + path); }

void Values::merge_text(const std::string& yaml_text, const std::string& origin) {
    const YAML::Node root = load_yaml(yaml_text, origin);
    if (root.IsNull()) return;  // an empty or all-comment file changes nothing
    if (!root.IsMap()) throw GeneratorError(origin + ": the top level must be a map of keys");
    for_each_leaf(root, [&](const std::string& key, const YAML::Node& node) {
        // A section left empty (`images:` with its keys commented out) changes nothing, as in Helm.
        if ((node.IsNull() || node.IsMap()) && is_section(key)) return;
        require_leaf(key, origin);
        if (!node.IsScalar()) {
            throw GeneratorError(origin + ": " + key + " must be a " + to_string(value(key).type) + ", got " +
                                 (node.IsNull() ? "no value" : node.IsMap() ? "a map" : "a list"));
        }
        assign(key, node.Scalar(), is_quoted(node), origin);
    });
}

void Values::set(const std::string& assignment) {
    const std::string origin = "--set " + assignment;
    const auto equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0) throw GeneratorError(origin + ": expected key.path=value");
    const std::string key = assignment.substr(0, equals);
    require_leaf(key, origin);
    assign(key, assignment.substr(equals + 1), false, origin);
}

void Values::assign(const std::string& key, const std::string& text, bool quoted, const std::string& origin) {
    Value& slot = leaves_[index_.at(key)].second;
    const std::string where = origin + ": " + key;
    Value converted = convert(slot.type, text, quoted, where);
    if (auto problem = rule_violation(key, converted)) throw GeneratorError(where + " " + *problem);
    slot = std::move(converted);
}

void Values::require_leaf(const std::string& key, const std::string& origin) const {
    if (is_section(key)) throw GeneratorError(origin + ": " + key + " is a section: set its keys (" + key + ".<name>)");
    if (index_.count(key) == 0) {
        throw GeneratorError(origin + ": " + key + " is not a known key (generator --help lists them)");
    }
}

bool Values::is_section(const std::string& key) const {
    const std::string prefix = key + ".";
    for (const auto& leaf : leaves_) {
        if (leaf.first.compare(0, prefix.size(), prefix) == 0) return true;
    }
    return false;
}

const Value& Values::value(const std::string& key) const {
    const auto found = index_.find(key);
    if (found == index_.end()) throw std::logic_error("generator bug: no value " + key + " in values.yaml");
    return leaves_[found->second].second;
}

const Value& Values::typed(const std::string& key, ValueType type) const {
    const Value& found = value(key);
    if (found.type != type) throw std::logic_error("generator bug: value " + key + " is not a " + to_string(type));
    return found;
}

int Values::integer(const std::string& key) const { return std::stoi(typed(key, ValueType::integer).text); }

bool Values::boolean(const std::string& key) const { return typed(key, ValueType::boolean).text == "true"; }

const std::string& Values::string(const std::string& key) const { return typed(key, ValueType::string).text; }

}  // namespace gen
