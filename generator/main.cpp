// generator: writes the Docker Compose file or the Kubernetes manifests for N clusters.
// This file only parses the command line and wires the parts together (docs/GENERATOR.md).
#include <iostream>
#include <string>
#include <vector>

#include "atomic_output.hpp"
#include "command_line.hpp"
#include "compose_writer.hpp"
#include "config_reference.hpp"
#include "generator_error.hpp"
#include "kind_writer.hpp"
#include "launcher_facts.hpp"
#include "values.hpp"

namespace {

std::string render(const gen::CommandLine& command_line) {
    gen::Values values = gen::Values::defaults();
    for (const std::string& file : command_line.values_files) values.merge_file(file);
    for (const std::string& assignment : command_line.assignments) values.set(assignment);
    if (command_line.facts) return gen::launcher_facts(values, command_line.target);
    return command_line.target == gen::Target::compose ? gen::write_compose(values, command_line.replicas)
                                                        : gen::write_kind(values, command_line.replicas);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const gen::CommandLine command_line = gen::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
        if (command_line.help) {
            std::cout << gen::help_text(gen::Values::defaults());
            return 0;
        }
        if (command_line.config_table) {
            std::cout << gen::config_field_table();
            return 0;
        }
        // Everything is rendered before anything is written: an error leaves no output behind.
        gen::write_output(command_line.output, render(command_line));
        return 0;
    } catch (const gen::GeneratorError& error) {
        std::cerr << "generator: error: " << error.what() << '\n';
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "generator: internal error: " << error.what() << '\n';
        return 1;
    }
}
