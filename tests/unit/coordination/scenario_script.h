#pragma once
// The file format of testdata/*.txt (docs/ELECTION.md, "Scenario files"), after etcd raft's
// datadriven tests: a command line, optional input lines, `----`, the expected output lines, and a
// blank line. Lines starting with `#` before a command are comments.
#include <string>
#include <vector>

namespace cdb::coordination::testing {

struct ScenarioStep {
    int line = 0;                      // of the command, for failure messages
    std::vector<std::string> comments;  // and blank lines before the command, kept when rewriting
    std::string command;
    std::vector<std::string> input;
    std::vector<std::string> expected;
};

struct ScenarioScript {
    std::vector<ScenarioStep> steps;
    std::vector<std::string> trailer;  // comments after the last step
};

// Throws std::invalid_argument naming the line of a step without `----`.
ScenarioScript parse_script(const std::string& text);
// The script with `outputs[i]` as the expected output of step i: what REWRITE_TESTDATA=1 writes.
std::string format_script(const ScenarioScript& script, const std::vector<std::vector<std::string>>& outputs);

}  // namespace cdb::coordination::testing
