#include "test_support.hpp"

#include "yaml_writer.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace gen_test {
namespace {

namespace fs = std::filesystem;

// The child writes to files rather than pipes, so a large output cannot block it while the parent waits.
void exec_child(const std::vector<std::string>& arguments, const std::string& directory, const std::string& out,
                const std::string& err) {
    const int out_fd = open(out.c_str(), O_WRONLY | O_TRUNC);
    const int err_fd = open(err.c_str(), O_WRONLY | O_TRUNC);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (out_fd < 0 || err_fd < 0 || null_fd < 0 || chdir(directory.c_str()) != 0) _exit(126);
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    std::vector<char*> argv;
    for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& arguments, const std::string& directory) {
    TemporaryDirectory capture;
    const std::string out = capture.path() + "/out";
    const std::string err = capture.path() + "/err";
    write_file(out, "");
    write_file(err, "");
    const pid_t child = fork();
    if (child < 0) throw std::runtime_error("fork failed");
    if (child == 0) exec_child(arguments, directory, out, err);
    int status = 0;
    waitpid(child, &status, 0);
    ProcessResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = read_file(out);
    result.err = read_file(err);
    return result;
}

ProcessResult run_generator(const std::vector<std::string>& arguments) {
    std::vector<std::string> command{GENERATOR_BINARY};
    command.insert(command.end(), arguments.begin(), arguments.end());
    return run_process(command);
}

bool on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::istringstream directories(path ? path : "");
    std::string directory;
    while (std::getline(directories, directory, ':')) {
        if (!directory.empty() && access((directory + "/" + program).c_str(), X_OK) == 0) return true;
    }
    return false;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path);
}

TemporaryDirectory::TemporaryDirectory() {
    std::string pattern = (fs::temp_directory_path() / "generator-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TemporaryDirectory::~TemporaryDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

std::vector<std::string> TemporaryDirectory::entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(path_)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

bool has_key_anywhere(const YAML::Node& node, const std::string& key) {
    if (node.IsSequence()) {
        for (const auto& item : node) {
            if (has_key_anywhere(item, key)) return true;
        }
    }
    if (!node.IsMap()) return false;
    for (const auto& entry : node) {
        if (entry.first.Scalar() == key || has_key_anywhere(entry.second, key)) return true;
    }
    return false;
}

bool reads_as_string(const YAML::Node& scalar) {
    return scalar.IsScalar() && (scalar.Tag() == "!" || !gen::needs_quotes(scalar.Scalar()));
}

void PrintTo(const OutputCase& output, std::ostream* out) { *out << output.file; }

std::vector<OutputCase> read_output_cases(const std::string& list_path) {
    std::istringstream lines(read_file(list_path));
    std::vector<OutputCase> cases;
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        OutputCase output;
        if (!(words >> output.file) || output.file[0] == '#') continue;
        for (std::string word; words >> word;) output.arguments.push_back(word);
        output.test_name = fs::path(output.file).filename().string();
        std::replace_if(output.test_name.begin(), output.test_name.end(),
                        [](unsigned char ch) { return !std::isalnum(ch); }, '_');
        cases.push_back(output);
    }
    return cases;
}

std::vector<OutputCase> all_output_cases() {
    std::vector<OutputCase> cases = read_output_cases(std::string(REPO_ROOT) + "/tests/generator/golden/cases.txt");
    for (OutputCase& checked_in : read_output_cases(std::string(REPO_ROOT) + "/generator/checked-in-outputs.txt")) {
        checked_in.test_name = "checked_in_" + checked_in.test_name;
        cases.push_back(checked_in);
    }
    return cases;
}

}  // namespace gen_test
