#pragma once

#include <yaml-cpp/yaml.h>

#include <ostream>
#include <string>
#include <vector>

// Helpers shared by the generator tests. REPO_ROOT and GENERATOR_BINARY come from CMake.
namespace gen_test {

struct ProcessResult {
    int exit_code = -1;  // 128 + signal when killed by a signal
    std::string out;
    std::string err;
};

// Runs `arguments` (arguments[0] is looked up in PATH) in `directory` and collects its output.
ProcessResult run_process(const std::vector<std::string>& arguments, const std::string& directory = REPO_ROOT);

// Runs the built generator binary from the repository root.
ProcessResult run_generator(const std::vector<std::string>& arguments);

// True when `program` is found in PATH.
bool on_path(const std::string& program);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

// A fresh empty directory under the system temporary directory, removed by the destructor.
class TemporaryDirectory {
public:
    TemporaryDirectory();
    ~TemporaryDirectory();
    TemporaryDirectory(const TemporaryDirectory&) = delete;
    TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
    const std::string& path() const { return path_; }
    std::vector<std::string> entries() const;  // file names in it, sorted

private:
    std::string path_;
};

// One line of tests/generator/golden/cases.txt or generator/checked-in-outputs.txt: a file and the
// generator arguments that write it, both relative to the repository root.
struct OutputCase {
    std::string file;
    std::vector<std::string> arguments;
    std::string test_name;  // the file name with non-alphanumerics as _, for GTest
};

// True when a map anywhere under `node` has `key` (network_mode, hostNetwork, ...).
bool has_key_anywhere(const YAML::Node& node, const std::string& key);

// True when a plain scalar would not read back as a string (a quoted one always does).
bool reads_as_string(const YAML::Node& scalar);

// Names a case by its file in test listings (instead of GTest's byte dump).
void PrintTo(const OutputCase& output, std::ostream* out);

std::vector<OutputCase> read_output_cases(const std::string& list_path);
// Both lists: the golden files and the checked-in outputs.
std::vector<OutputCase> all_output_cases();

}  // namespace gen_test
