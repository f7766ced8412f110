// Runs every testdata/*.txt scenario; REWRITE_TESTDATA=1 writes the actual outputs back into the
// files instead of comparing (review the diff before keeping it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scenario_runner.h"
#include "scenario_script.h"

namespace cdb::coordination::testing {
namespace {

namespace fs = std::filesystem;

fs::path testdata_dir() {
    return fs::path(COORDINATION_TESTDATA_DIR);
}

std::vector<std::string> scenario_names() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(testdata_dir())) {
        if (entry.path().extension() == ".txt") names.push_back(entry.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines) text += line + "\n";
    return text;
}

class Scenario : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenario, MatchesExpectedDecisions) {
    const fs::path path = testdata_dir() / (GetParam() + ".txt");
    std::ifstream file(path);
    ASSERT_TRUE(file) << "cannot read " << path;
    std::stringstream text;
    text << file.rdbuf();
    const ScenarioScript script = parse_script(text.str());
    ASSERT_FALSE(script.steps.empty()) << path << " has no steps";

    const bool rewrite = std::getenv("REWRITE_TESTDATA") != nullptr;
    ScenarioRunner runner;
    std::vector<std::vector<std::string>> outputs;
    for (const ScenarioStep& step : script.steps) {
        try {
            outputs.push_back(runner.run(step));
        } catch (const std::exception& error) {
            FAIL() << path.string() << ":" << step.line << ": " << error.what();
        }
        // Later steps depend on this one's state: the first difference is the one worth reading.
        if (!rewrite) {
            ASSERT_EQ(join_lines(step.expected), join_lines(outputs.back()))
                << path.string() << ":" << step.line << ": " << step.command;
        }
    }
    if (rewrite) std::ofstream(path) << format_script(script, outputs);
}

// docs/ELECTION.md's table of files is how a reader finds their way in: it names every header.
TEST(ElectionDoc, ItsFileTableNamesEveryHeaderOfTheLibrary) {
    std::ifstream doc(ELECTION_DOC);
    ASSERT_TRUE(doc) << "cannot read " << ELECTION_DOC;
    std::stringstream text;
    text << doc.rdbuf();
    for (const auto& entry : fs::directory_iterator(COORDINATION_HEADERS_DIR)) {
        const std::string row = "| `" + entry.path().filename().string() + "` |";
        EXPECT_NE(text.str().find(row), std::string::npos) << "docs/ELECTION.md has no row " << row;
    }
}

INSTANTIATE_TEST_SUITE_P(Testdata, Scenario, ::testing::ValuesIn(scenario_names()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

}  // namespace
}  // namespace cdb::coordination::testing
