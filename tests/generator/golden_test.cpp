// Golden files (tests/generator/golden/cases.txt) and the checked-in outputs
// (generator/checked-in-outputs.txt) must equal what the generator writes now, byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "test_support.hpp"

namespace gen_test {
namespace {

std::string first_difference(const std::string& expected, const std::string& actual) {
    std::istringstream expected_lines(expected);
    std::istringstream actual_lines(actual);
    std::string want;
    std::string have;
    for (int line = 1;; ++line) {
        const bool more_expected = static_cast<bool>(std::getline(expected_lines, want));
        const bool more_actual = static_cast<bool>(std::getline(actual_lines, have));
        if (!more_expected && !more_actual) return "only in line endings";
        if (!more_expected || !more_actual || want != have) {
            return "line " + std::to_string(line) + ": file has \"" + (more_expected ? want : "<end>") +
                   "\", generator writes \"" + (more_actual ? have : "<end>") + "\"";
        }
    }
}

class GoldenFiles : public ::testing::TestWithParam<OutputCase> {};

TEST_P(GoldenFiles, EqualWhatTheGeneratorWritesNow) {
    const OutputCase& output = GetParam();
    const ProcessResult result = run_generator(output.arguments);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const std::string expected = read_file(std::string(REPO_ROOT) + "/" + output.file);
    EXPECT_TRUE(result.out == expected)
        << output.file << " is out of date, " << first_difference(expected, result.out)
        << ". If the change is intended, run generator/regenerate.sh (add --golden for test files) and review git diff.";
}

INSTANTIATE_TEST_SUITE_P(Outputs, GoldenFiles, ::testing::ValuesIn(all_output_cases()),
                         [](const ::testing::TestParamInfo<OutputCase>& info) { return info.param.test_name; });

TEST(GoldenFiles, CoverBothTargetsAtOneThreeAndSevenReplicas) {
    std::string listed;
    for (const OutputCase& output : all_output_cases()) {
        std::string line;
        for (const std::string& argument : output.arguments) line += argument + " ";
        listed += line + "\n";
    }
    for (const char* target : {"compose", "kind"}) {
        for (const char* replicas : {"1", "3", "7"}) {
            const std::string wanted = std::string("--target ") + target + " --replicas " + replicas + " \n";
            EXPECT_NE(listed.find(wanted), std::string::npos) << "no golden case for " << wanted;
        }
    }
}

// kind-precedence.yaml: values-base.yaml, then values-override.yaml, then --set (cases.txt).
TEST(GoldenFiles, PrecedenceCaseTakesEachValueFromTheLastPlaceThatSetsIt) {
    const std::vector<YAML::Node> documents =
        YAML::LoadAll(read_file(std::string(REPO_ROOT) + "/tests/generator/golden/kind-precedence.yaml"));
    const YAML::Node config = YAML::Load(documents[1]["data"]["config.json"].Scalar());
    EXPECT_EQ(config["log_level"].Scalar(), "debug");                  // base, then --set
    EXPECT_EQ(config["replication"]["mode"].Scalar(), "none");         // base, then override
    EXPECT_EQ(config["election"]["failure_threshold"].as<int>(), 5);   // override only
    const YAML::Node pod = documents[3]["spec"]["template"]["spec"];
    EXPECT_EQ(pod["containers"][0]["image"].Scalar(), "consult-db-slave:from-set");  // base, override, --set
    const auto redis_args = pod["containers"][1]["args"].as<std::vector<std::string>>();
    EXPECT_NE(std::find(redis_args.begin(), redis_args.end(), "64mb"), redis_args.end());  // base only
    for (const YAML::Node& document : documents) EXPECT_NE(document["kind"].Scalar(), "NetworkPolicy");
}

TEST(GoldenFiles, SameInputsWriteIdenticalBytes) {
    const std::vector<std::string> arguments{"--target", "kind", "--replicas", "5", "--set", "images.tag=v1"};
    const ProcessResult first = run_generator(arguments);
    const ProcessResult second = run_generator(arguments);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(first.out, second.out);
}

}  // namespace
}  // namespace gen_test
