#pragma once
// Runs the commands of a scenario file against a Coordinator on a scripted clock and renders what
// it decided as text lines (docs/ELECTION.md, "Scenario files").
#include <optional>
#include <string>
#include <vector>

#include "cdb/coordination/coordinator.h"
#include "scenario_script.h"

namespace cdb::coordination::testing {

std::vector<std::string> render(const Decisions& decisions);
std::vector<std::string> render(const Status& status);

class ScenarioRunner {
public:
    // The output lines of one step; throws std::invalid_argument on a malformed command.
    std::vector<std::string> run(const ScenarioStep& step);

private:
    Coordinator& coordinator();

    Config config_;
    std::optional<Coordinator> coordinator_;
    Millis now_ = 0;
};

}  // namespace cdb::coordination::testing
