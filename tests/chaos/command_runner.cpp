#include "command_runner.h"

#include <fstream>

#include "test_processes.h"

namespace cdb::chaos {
namespace {

std::string joined(const std::vector<std::string>& argv) {
    std::string text;
    for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
    return text;
}

std::string last_lines(const std::string& text, int lines) {
    std::size_t from = text.size();
    while (lines-- > 0 && from > 0) {
        from = text.rfind('\n', from - 1);
        if (from == std::string::npos) return text;
    }
    return text.substr(from + 1);
}

}  // namespace

Error CommandRunner::run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::map<std::string, std::string>& env, std::string* output) const {
    test::ChildProcess process(argv.front(), argv, env);
    auto status = process.wait_exit(timeout);
    if (!status) process.stop();
    const std::string printed = process.log();
    std::ofstream(log_path_, std::ios::app) << "$ " << joined(argv) << "\n" << printed << "\n";
    if (output) *output = printed;
    if (!status) {
        return "'" + joined(argv) + "' still ran after " + std::to_string(timeout.count() / 1000) +
               " s and was stopped (log: " + log_path_ + ")";
    }
    if (*status != 0) {
        return "'" + joined(argv) + "' failed with status " + std::to_string(*status) + ":\n" +
               last_lines(printed, 8) + "(log: " + log_path_ + ")";
    }
    return std::nullopt;
}

}  // namespace cdb::chaos
