#pragma once

#include <string>
#include <vector>

#include "values.hpp"

namespace gen {

enum class Target { compose, kind };

struct CommandLine {
    bool help = false;
    bool config_table = false;  // print docs/CONFIG.md's table of fields instead
    bool facts = false;         // print launcher_facts() instead of the deployment; needs no --replicas
    Target target = Target::compose;
    int replicas = 0;
    std::vector<std::string> values_files;  // in the order given: later files win
    std::vector<std::string> assignments;   // --set key.path=value, applied after all files
    std::string output = "-";               // "-" is stdout
};

// Parses argv[1..]; throws GeneratorError with a one-line reason.
CommandLine parse_command_line(const std::vector<std::string>& arguments);

// `generator --help`: the options, then every values key with its type, default, accepted values and
// its @param description from values.yaml.
std::string help_text(const Values& defaults);

}  // namespace gen
