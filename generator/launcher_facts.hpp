#pragma once

#include <string>

#include "command_line.hpp"
#include "values.hpp"

namespace gen {

// `generator --facts`: what the launchers (scripts/k8s-lib.sh, scripts/compose-env.sh) need to know
// about a deployment the generator writes, one NAME=value line each, like a chart's NOTES.txt.
// Every value passes a rule that allows only shell-safe characters, so a line can be read with
// `IFS== read -r name value` or eval'd without quoting.
std::string launcher_facts(const Values& values, Target target);

}  // namespace gen
