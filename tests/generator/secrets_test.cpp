// No generated file holds a Redis password (docs/SECURITY.md): Compose files name the secrets file
// (env_file), Kubernetes manifests the Secret (secretKeyRef), and the generator never reads a password,
// whatever its environment holds.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "test_support.hpp"

namespace gen_test {
namespace {

// Lines that mention a password variable other than as a name or a Secret key: a value written out.
std::vector<std::string> lines_with_a_password(const std::string& text) {
    static const std::regex reference(R"(^\s*(- name|key): REDIS_[A-Z]+_PASSWORD$)");
    std::vector<std::string> found;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.find("PASSWORD") != std::string::npos && !std::regex_match(line, reference)) found.push_back(line);
    }
    return found;
}

class GeneratedFiles : public ::testing::TestWithParam<OutputCase> {};

TEST_P(GeneratedFiles, HoldNoPassword) {
    const std::string text = read_file(std::string(REPO_ROOT) + "/" + GetParam().file);
    EXPECT_EQ(lines_with_a_password(text), std::vector<std::string>{});
    const bool compose = GetParam().file.find(".yml") != std::string::npos;
    EXPECT_NE(text.find(compose ? "env_file:" : "secretKeyRef:"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Outputs, GeneratedFiles, ::testing::ValuesIn(all_output_cases()),
                         [](const ::testing::TestParamInfo<OutputCase>& info) { return info.param.test_name; });

TEST(GeneratedFiles, NeverTakeAPasswordFromTheEnvironmentOrTheSecretsFile) {
    const std::string canary = "canary-password-0123456789";
    TemporaryDirectory dir;
    const std::string secrets = dir.path() + "/secrets.env";
    write_file(secrets, "REDIS_DATA_PASSWORD=" + canary + "\n");
    for (const char* target : {"compose", "kind"}) {
        const ProcessResult result = run_process(
            {"env", "REDIS_DATA_PASSWORD=" + canary, "REDIS_COORDINATOR_PASSWORD=" + canary,
             "REDIS_REPLICATION_PASSWORD=" + canary, "CONSULT_DB_SECRETS_FILE=" + secrets, GENERATOR_BINARY,
             "--target", target, "--replicas", "3", "--set", "compose.envFile=" + secrets});
        ASSERT_EQ(result.exit_code, 0) << result.err;
        EXPECT_EQ(result.out.find(canary), std::string::npos) << target;
        EXPECT_EQ(lines_with_a_password(result.out), std::vector<std::string>{}) << target;
    }
}

// The line check can fail: a Compose variable with a value is found, a Kubernetes name is not. A
// value under a name (`value:` below `- name: X_PASSWORD`) is kind_parse_test's to find.
TEST(GeneratedFiles, TheLineCheckFindsAWrittenPassword) {
    EXPECT_EQ(lines_with_a_password("      REDIS_DATA_PASSWORD: abc\n            - name: REDIS_DATA_PASSWORD\n"),
              std::vector<std::string>{"      REDIS_DATA_PASSWORD: abc"});
}

}  // namespace
}  // namespace gen_test
