#include "command_line.hpp"

#include <regex>

#include "cdb/config_schema.h"

#include "generator_error.hpp"
#include "value_rules.hpp"

namespace gen {
namespace {

const char* const usage =
    "Usage: generator --target compose|kind --replicas N [--values FILE]... [--set key.path=value]...\n"
    "                 [--output FILE|-]\n"
    "       generator --target compose|kind --facts [--values FILE]... [--set key.path=value]... [--output FILE|-]\n"
    "       generator --config-table\n";

std::string options_help() {
    const std::string replicas_range = cdb::accepted_values(*cdb::find_config_field("cluster.size"));
    return "Writes the Docker Compose file (compose) or the Kubernetes manifests for kind (kind) of a consult-db\n"
    "deployment with N clusters. Values start from the defaults below; each --values file is merged over\n"
    "them in order, then each --set. Unknown keys and values of the wrong type are errors.\n"
    "\n"
    "Options:\n"
    "  --target compose|kind    what to write (required)\n"
    "  --replicas N             number of clusters, " + replicas_range + " (required but with --facts)\n"
    "  --values FILE            YAML values file merged over the defaults; repeatable, later files win\n"
    "  --set key.path=value     set one value after all values files; repeatable, later wins; the\n"
    "                           value takes the key's type (int, bool true|false, or string as written)\n"
    "  --output FILE|-          write to FILE, replaced atomically, or to stdout (-, the default)\n"
    "  --facts                  instead of the deployment, write the NAME=value lines the launchers read\n"
    "                           (namespace, Secret, object names, ports, images); values are shell-safe\n"
    "  --config-table           print docs/CONFIG.md's table of the services' configuration fields\n"
    "  -h, --help               print this help and exit\n"
    "\n"
    "Exit status: 0 on success, 2 on any error (nothing is written then).\n"
    "\n"
    "The config.* values are the services' configuration (docs/CONFIG.md, same names without config.):\n"
    "Compose passes each as an environment variable (config.redis.port -> REDIS_PORT), Kubernetes as\n"
    "/etc/consult-db/config.json. cluster.host_template, cluster.size and cluster.index come from the\n"
    "target and --replicas.\n";
}

Target parse_target(const std::string& text) {
    if (text == "compose") return Target::compose;
    if (text == "kind") return Target::kind;
    throw GeneratorError("unknown target \"" + text + "\": use --target compose or --target kind");
}

// --replicas becomes the services' cluster.size: it accepts what they accept.
int parse_replicas(const std::string& text) {
    static const std::regex digits("[0-9]{1,4}");
    const cdb::ConfigField& size = *cdb::find_config_field("cluster.size");
    const int replicas = std::regex_match(text, digits) ? std::stoi(text) : 0;
    if (replicas < size.min || replicas > size.max) {
        throw GeneratorError("--replicas must be " + cdb::accepted_values(size) + ", got \"" + text + "\"");
    }
    return replicas;
}

// Splits "--name=value" or "--name value"; returns false for arguments that are not --name options.
bool option_value(const std::vector<std::string>& arguments, std::size_t& position, const std::string& name,
                  std::string& value) {
    const std::string& argument = arguments[position];
    if (argument.compare(0, name.size() + 1, name + "=") == 0) {
        value = argument.substr(name.size() + 1);
        return true;
    }
    if (argument != name) return false;
    if (position + 1 >= arguments.size()) throw GeneratorError(name + " needs a value");
    value = arguments[++position];
    return true;
}

void apply_option(CommandLine& command_line, const std::vector<std::string>& arguments, std::size_t& position,
                  bool& has_target, bool& has_replicas) {
    std::string value;
    if (option_value(arguments, position, "--target", value)) {
        command_line.target = parse_target(value);
        has_target = true;
    } else if (option_value(arguments, position, "--replicas", value)) {
        command_line.replicas = parse_replicas(value);
        has_replicas = true;
    } else if (option_value(arguments, position, "--values", value)) {
        command_line.values_files.push_back(value);
    } else if (option_value(arguments, position, "--set", value)) {
        command_line.assignments.push_back(value);
    } else if (arguments[position] == "--facts") {
        command_line.facts = true;
    } else if (option_value(arguments, position, "--output", value)) {
        if (value.empty()) throw GeneratorError("--output needs a file name or -");
        command_line.output = value;
    } else {
        throw GeneratorError("unknown argument \"" + arguments[position] + "\" (generator --help lists the options)");
    }
}

std::string describe_key(const Values& defaults, const std::string& key, const std::string& description) {
    const Value& value = defaults.value(key);
    std::string line = "  " + key + " = " + (value.text.empty() ? "\"\"" : value.text) + "  (" + to_string(value.type);
    if (auto accepted = accepted_values(key)) line += "; " + *accepted;
    return line + ")\n      " + description + "\n";
}

}  // namespace

CommandLine parse_command_line(const std::vector<std::string>& arguments) {
    CommandLine command_line;
    bool has_target = false;
    bool has_replicas = false;
    for (std::size_t position = 0; position < arguments.size(); ++position) {
        if (arguments[position] == "-h" || arguments[position] == "--help") {
            command_line.help = true;
            return command_line;
        }
        if (arguments[position] == "--config-table") {
            command_line.config_table = true;
            return command_line;
        }
        apply_option(command_line, arguments, position, has_target, has_replicas);
    }
    if (!has_target) throw GeneratorError("--target is required: compose or kind (generator --help)");
    if (!has_replicas && !command_line.facts) throw GeneratorError("--replicas is required: the number of clusters (generator --help)");
    return command_line;
}

std::string help_text(const Values& defaults) {
    std::string help = std::string(usage) + "\n" + options_help() + "\nValues (key = default  (type; accepted)):\n";
    for (const ValueDoc& doc : value_docs()) {
        help += describe_key(defaults, doc.key, doc.description);
    }
    return help;
}

}  // namespace gen
