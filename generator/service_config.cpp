#include "service_config.hpp"

#include <cctype>
#include <cstdio>

#include "yaml_tree.hpp"
#include "yaml_writer.hpp"

namespace gen {
namespace {

const std::string config_prefix = "config.";

std::string json_string(const std::string& value) {
    std::string quoted = "\"";
    for (const char ch : value) {
        if (ch == '"' || ch == '\\') {
            quoted += '\\';
            quoted += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", ch);
            quoted += escaped;
        } else {
            quoted += ch;
        }
    }
    return quoted + "\"";
}

void write_json(std::string& out, const YAML::Node& node, const std::string& indent) {
    if (!node.IsMap()) {
        // Strings carry the tag of text(); numbers and booleans are written as they are.
        out += node.Tag() == "!" ? json_string(node.Scalar()) : node.Scalar();
        return;
    }
    const std::string inner = indent + "  ";
    out += "{\n";
    std::size_t written = 0;
    for (const auto& entry : node) {
        out += inner + json_string(entry.first.Scalar()) + ": ";
        write_json(out, entry.second, inner);
        out += ++written < node.size() ? ",\n" : "\n";
    }
    out += indent + "}";
}

}  // namespace

YAML::Node service_config(const Values& values, const std::string& host_template_key, int replicas) {
    YAML::Node config(YAML::NodeType::Map);
    insert_leaf(config, "cluster.host_template", text(values.string(host_template_key)));
    insert_leaf(config, "cluster.size", YAML::Node(replicas));
    for (const auto& [key, value] : values.leaves()) {
        if (key.compare(0, config_prefix.size(), config_prefix) == 0) {
            insert_leaf(config, key.substr(config_prefix.size()), scalar(value));
        }
    }
    return config;
}

std::string env_name(const std::string& field_path) {
    std::string name = field_path;
    for (char& ch : name) ch = ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return name;
}

YAML::Node environment_variables(const YAML::Node& config) {
    YAML::Node variables(YAML::NodeType::Map);
    for_each_leaf(config, [&](const std::string& path, const YAML::Node& value) {
        variables[env_name(path)] = text(value.Scalar());
    });
    return variables;
}

std::string to_json(const YAML::Node& config) {
    std::string out;
    write_json(out, config, "");
    return out;
}

}  // namespace gen
