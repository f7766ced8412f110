#include "service_config.hpp"

#include <algorithm>
#include <cstdio>

#include "cdb/config.h"
#include "generator_error.hpp"
#include "yaml_tree.hpp"
#include "yaml_writer.hpp"

namespace gen {
namespace {

const std::string size_section = "cluster";
const std::string size_leaf = "size";

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

// Both services read the configuration with the same parser: whatever either would refuse at start,
// the generator refuses now (a slave takes its index from its hostname or CLUSTER_INDEX).
void check_with_the_services_parser(const YAML::Node& config) {
    YAML::Node slave_config = YAML::Clone(config);
    insert_leaf(slave_config, "cluster.index", YAML::Node(0));
    try {
        cdb::check_config_file(to_json(config), cdb::ConfigUser::lb);
        cdb::check_config_file(to_json(slave_config), cdb::ConfigUser::slave);
    } catch (const cdb::ConfigError& error) {
        std::string message = error.what();
        const std::string prefix = "invalid configuration: field ";
        if (message.compare(0, prefix.size(), prefix) == 0) message = "config." + message.substr(prefix.size());
        throw GeneratorError("the services would refuse to start with these values: " + message);
    }
}

}  // namespace

const cdb::ConfigField* service_field(const std::string& key) {
    if (key.compare(0, config_prefix.size(), config_prefix) != 0) return nullptr;
    const cdb::ConfigField* field = cdb::find_config_field(key.substr(config_prefix.size()));
    return field != nullptr && field->generator_value ? field : nullptr;
}

YAML::Node service_config(const Values& values, const std::string& host_template_key, int replicas) {
    YAML::Node config(YAML::NodeType::Map);
    insert_leaf(config, "cluster.host_template", text(values.string(host_template_key)));
    insert_leaf(config, size_section + "." + size_leaf, YAML::Node(replicas));
    for (const auto& [key, value] : values.leaves()) {
        if (key.compare(0, config_prefix.size(), config_prefix) == 0) {
            insert_leaf(config, key.substr(config_prefix.size()), scalar(value));
        }
    }
    check_with_the_services_parser(config);
    return config;
}

// A stopping slave waits up to handover.timeout_ms for the LB to move the leadership off its
// cluster, then drains (at most 1 s); its Redis stops after it. A grace period shorter than that
// would kill Redis during the very hand-over it waits for (docs/DEPLOY.md, "Stopping a cluster").
long long stop_grace_seconds(const Values& values) {
    const long long needed_ms = values.integer("config.handover.timeout_ms") + stop_grace_margin_ms;
    return std::max<long long>(values.integer("stopGraceSeconds"), (needed_ms + 999) / 1000);
}

YAML::Node fields_read_only_at_start(const YAML::Node& config) {
    YAML::Node fields = YAML::Clone(config);
    fields[size_section].remove(size_leaf);
    return fields;
}

YAML::Node environment_variables(const YAML::Node& config) {
    YAML::Node variables(YAML::NodeType::Map);
    for_each_leaf(config, [&](const std::string& path, const YAML::Node& value) {
        variables[cdb::env_name_for(path)] = text(value.Scalar());
    });
    return variables;
}

std::string to_json(const YAML::Node& config) {
    std::string out;
    write_json(out, config, "");
    return out;
}

}  // namespace gen
