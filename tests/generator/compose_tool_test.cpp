// Real-tool validation of every Compose file the generator writes (golden and checked-in):
// `docker-compose config -q` (1.29, Debian package docker-compose; needs no Docker engine) and, when
// installed, `docker compose config -q` (v2). A test is skipped, saying why, only when its tool is absent.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace gen_test {
namespace {

std::vector<OutputCase> compose_cases() {
    std::vector<OutputCase> cases;
    for (const OutputCase& output : all_output_cases()) {
        if (output.file.size() > 4 && output.file.compare(output.file.size() - 4, 4, ".yml") == 0) cases.push_back(output);
    }
    return cases;
}

bool compose_v2_available() { return on_path("docker") && run_process({"docker", "compose", "version"}).exit_code == 0; }

// Runs `tool... -f FILE config -q` from the file's directory with a fixed project name, with
// $CONSULT_DB_SECRETS_FILE naming an env file as the launcher does (Compose reads it).
ProcessResult compose_config(std::vector<std::string> tool, const std::string& file) {
    TemporaryDirectory secrets;
    write_file(secrets.path() + "/secrets.env", "REDIS_DATA_PASSWORD=test-password-000001\n");
    tool.insert(tool.begin(), {"env", "CONSULT_DB_SECRETS_FILE=" + secrets.path() + "/secrets.env"});
    for (const char* argument : {"--project-name", "generator-test", "-f"}) tool.push_back(argument);
    tool.push_back(file);
    tool.push_back("config");
    tool.push_back("-q");
    return run_process(tool);
}

class ComposeTools : public ::testing::TestWithParam<OutputCase> {};

TEST_P(ComposeTools, DockerCompose129AcceptsTheFile) {
    if (!on_path("docker-compose")) GTEST_SKIP() << "docker-compose is not installed (apt-get install docker-compose)";
    const ProcessResult result = compose_config({"docker-compose"}, std::string(REPO_ROOT) + "/" + GetParam().file);
    EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST_P(ComposeTools, DockerComposeV2AcceptsTheFile) {
    if (!compose_v2_available()) GTEST_SKIP() << "the docker compose v2 plugin is not installed";
    const ProcessResult result = compose_config({"docker", "compose"}, std::string(REPO_ROOT) + "/" + GetParam().file);
    EXPECT_EQ(result.exit_code, 0) << result.err;
}

INSTANTIATE_TEST_SUITE_P(Outputs, ComposeTools, ::testing::ValuesIn(compose_cases()),
                         [](const ::testing::TestParamInfo<OutputCase>& info) { return info.param.test_name; });

// Proves the check above can fail: docker-compose must reject a misspelt key and a wrong type.
TEST(ComposeTools, DockerCompose129RejectsABrokenFile) {
    if (!on_path("docker-compose")) GTEST_SKIP() << "docker-compose is not installed (apt-get install docker-compose)";
    TemporaryDirectory dir;
    for (const char* broken : {"services:\n  lb:\n    image: x\n    helthcheck: {}\n",
                               "services:\n  lb:\n    image: x\n    init: sometimes\n"}) {
        write_file(dir.path() + "/docker-compose.yml", broken);
        const ProcessResult result = compose_config({"docker-compose"}, dir.path() + "/docker-compose.yml");
        EXPECT_NE(result.exit_code, 0) << broken;
    }
}

}  // namespace
}  // namespace gen_test
