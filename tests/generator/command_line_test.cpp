// The command line, through the real binary: every error exits 2 with one line on stderr and writes
// nothing (stdout empty, --output file untouched, no temporary file left); successes write atomically.
#include <gtest/gtest.h>

#include <algorithm>

#include <sys/stat.h>

#include "test_support.hpp"
#include "values.hpp"

namespace gen_test {
namespace {

const std::string untouched = "previous content\n";

struct ErrorCase {
    std::string name;
    std::vector<std::string> arguments;  // "{dir}" stands for the test's temporary directory
    std::string message;                 // part of the one-line error
};

std::ostream& operator<<(std::ostream& out, const ErrorCase& error) { return out << error.name; }

class CommandLineErrors : public ::testing::TestWithParam<ErrorCase> {
protected:
    void SetUp() override {
        write_file(dir.path() + "/out.yaml", untouched);
        write_file(dir.path() + "/malformed.yaml", "images: [unclosed\n");
        write_file(dir.path() + "/list.yaml", "- images\n- tag\n");
        write_file(dir.path() + "/unknown-key.yaml", "images:\n  tagg: v1\n");
        write_file(dir.path() + "/quoted-int.yaml", "config:\n  slave:\n    port: \"8080\"\n");
        write_file(dir.path() + "/section-value.yaml", "images: latest\n");
        write_file(dir.path() + "/list-value.yaml", "images:\n  tag: [a, b]\n");
        write_file(dir.path() + "/bad-mode.yaml", "config:\n  replication:\n    mode: quorum\n");
        mkdir((dir.path() + "/subdir").c_str(), 0755);
    }

    std::vector<std::string> arguments() const {
        // --output first, so that a case's own missing option value is not filled by it.
        std::vector<std::string> all{"--output", dir.path() + "/out.yaml"};
        for (std::string argument : GetParam().arguments) {
            const auto at = argument.find("{dir}");
            if (at != std::string::npos) argument.replace(at, 5, dir.path());
            all.push_back(argument);
        }
        return all;
    }

    TemporaryDirectory dir;
};

TEST_P(CommandLineErrors, ExitTwoWithOneLineAndWriteNothing) {
    const std::vector<std::string> before = dir.entries();
    const ProcessResult result = run_generator(arguments());
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err.rfind("generator: error: ", 0), 0u) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_NE(result.err.find(GetParam().message), std::string::npos) << result.err;
    EXPECT_EQ(read_file(dir.path() + "/out.yaml"), untouched);
    EXPECT_EQ(dir.entries(), before) << "a file was created or removed";
}

// A valid target and N followed by `more`: for the cases about values and output.
std::vector<std::string> valid(std::vector<std::string> more) {
    std::vector<std::string> arguments{"--target", "kind", "--replicas", "3"};
    arguments.insert(arguments.end(), more.begin(), more.end());
    return arguments;
}

const std::vector<ErrorCase> error_cases = {
    {"unknown_target", {"--target", "swarm", "--replicas", "3"}, "unknown target \"swarm\""},
    {"missing_target", {"--replicas", "3"}, "--target is required"},
    {"missing_replicas", {"--target", "kind"}, "--replicas is required"},
    {"replicas_zero", {"--target", "kind", "--replicas", "0"}, "--replicas must be an integer from 1 to 256"},
    {"replicas_above_maximum", {"--target", "compose", "--replicas", "257"}, "from 1 to 256, got \"257\""},
    {"replicas_negative", {"--target", "compose", "--replicas", "-1"}, "got \"-1\""},
    {"replicas_not_a_number", {"--target", "compose", "--replicas", "3x"}, "got \"3x\""},
    {"option_without_value", {"--target", "compose", "--replicas"}, "--replicas needs a value"},
    {"unknown_option", valid({"--frobnicate"}), "unknown argument \"--frobnicate\""},
    {"empty_output", valid({"--output="}), "--output needs a file name"},
    {"values_file_missing", valid({"--values", "{dir}/absent.yaml"}), "cannot read values file"},
    {"values_file_is_directory", valid({"--values", "{dir}/subdir"}), "it is a directory"},
    {"values_file_malformed", valid({"--values", "{dir}/malformed.yaml"}), "malformed YAML"},
    {"values_file_not_a_map", valid({"--values", "{dir}/list.yaml"}), "the top level must be a map"},
    {"values_file_unknown_key", valid({"--values", "{dir}/unknown-key.yaml"}), "images.tagg is not a known key"},
    {"values_file_string_for_int", valid({"--values", "{dir}/quoted-int.yaml"}),
     "config.slave.port must be an integer, got \"8080\""},
    {"values_file_value_for_section", valid({"--values", "{dir}/section-value.yaml"}), "images is a section"},
    {"values_file_list_for_string", valid({"--values", "{dir}/list-value.yaml"}),
     "images.tag must be a string, got a list"},
    {"values_file_bad_mode", valid({"--values", "{dir}/bad-mode.yaml"}),
     "config.replication.mode must be one of none, async, sync"},
    {"set_unknown_key", valid({"--set", "images.tagg=v1"}), "images.tagg is not a known key"},
    {"set_text_for_int", valid({"--set", "config.slave.port=http"}),
     "config.slave.port must be an integer, got \"http\""},
    {"set_text_for_bool", valid({"--set", "kind.networkPolicy=maybe"}), "kind.networkPolicy must be true or false"},
    {"set_without_equals", valid({"--set", "images.tag"}), "expected key.path=value"},
    {"set_section", valid({"--set", "images=v1"}), "images is a section"},
    {"set_port_out_of_range", valid({"--set", "config.slave.port=70000"}), "config.slave.port must be between 1 and 65535"},
    {"set_bad_mode", valid({"--set", "config.replication.mode=quorum"}), "must be one of none, async, sync"},
    {"set_bad_quantity", valid({"--set", "resources.lb.limits.memory=lots"}), "must be a Kubernetes quantity"},
    {"output_directory_missing", valid({"--output", "{dir}/absent/out.yaml"}), "cannot write"},
    {"output_is_a_directory", valid({"--output", "{dir}/subdir"}), "cannot write"},
};

INSTANTIATE_TEST_SUITE_P(Cases, CommandLineErrors, ::testing::ValuesIn(error_cases),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(CommandLine, HelpDocumentsEveryOptionAndEveryValuesKey) {
    const ProcessResult result = run_generator({"--help"});
    ASSERT_EQ(result.exit_code, 0);
    EXPECT_EQ(result.err, "");
    for (const char* option : {"--target", "--replicas", "--values", "--set", "--output", "--help", "256"}) {
        EXPECT_NE(result.out.find(option), std::string::npos) << option;
    }
    const gen::Values defaults = gen::Values::defaults();
    for (const auto& [key, value] : defaults.leaves()) {
        EXPECT_NE(result.out.find("  " + key + " = "), std::string::npos) << key;
    }
}

TEST(CommandLine, OutputFileIsReplacedWithTheSameBytesAsStdoutAndKeepsItsMode) {
    TemporaryDirectory dir;
    const std::string file = dir.path() + "/manifests.yaml";
    write_file(file, untouched);
    chmod(file.c_str(), 0640);
    const ProcessResult to_file = run_generator({"--target", "kind", "--replicas", "2", "--output", file});
    const ProcessResult to_stdout = run_generator({"--target=kind", "--replicas=2", "--output", "-"});
    ASSERT_EQ(to_file.exit_code, 0) << to_file.err;
    ASSERT_EQ(to_stdout.exit_code, 0) << to_stdout.err;
    EXPECT_EQ(to_file.out, "");
    EXPECT_EQ(read_file(file), to_stdout.out);
    struct stat info {};
    ASSERT_EQ(stat(file.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0640u);
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"manifests.yaml"});
}

TEST(CommandLine, StdoutIsTheDefaultOutput) {
    const ProcessResult implicit = run_generator({"--target", "compose", "--replicas", "2"});
    const ProcessResult dash = run_generator({"--target", "compose", "--replicas", "2", "--output", "-"});
    ASSERT_EQ(implicit.exit_code, 0) << implicit.err;
    EXPECT_FALSE(implicit.out.empty());
    EXPECT_EQ(implicit.out, dash.out);
}

}  // namespace
}  // namespace gen_test
