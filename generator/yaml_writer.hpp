#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "values.hpp"

// Builds output documents as YAML::Node trees and writes them with every string typed on purpose.
// yaml-cpp 0.7 writes the string "8080" as 8080 and "yes" as yes, which readers (Compose, kubectl,
// YAML 1.1) take for a number or a boolean; so strings are built with text() and quoted by
// needs_quotes(), while numbers and booleans are plain YAML::Node(int) / YAML::Node(bool).
namespace gen {

// A string scalar.
YAML::Node text(const std::string& value);
// A number or boolean from a values leaf, or a string through text().
YAML::Node scalar(const Value& value);
// An exec-form argument vector, written as a flow sequence of quoted strings: ["CMD", "lb"].
YAML::Node argv(const std::vector<std::string>& arguments);
// An empty map, written {} (emptyDir: {}).
YAML::Node empty_map();

// True when `value`, written plain, would not read back as this same string in YAML 1.1 or 1.2.
bool needs_quotes(const std::string& value);

// One YAML document, ending in a newline.
std::string to_yaml(const YAML::Node& document);

}  // namespace gen
