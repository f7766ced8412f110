#pragma once
// Runs the launcher and docker for the chaos run: each command bounded in time, its output appended
// to a log file that failures point to.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cdb::chaos {

// What went wrong, said so that a reader knows where to look; nullopt when all went well.
using Error = std::optional<std::string>;

class CommandRunner {
public:
    explicit CommandRunner(std::string log_path) : log_path_(std::move(log_path)) {}

    // Runs `argv` with `env` added to this process's environment. A command still running after
    // `timeout` is stopped and counts as failed. `output`, when given, receives what it printed.
    Error run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const std::map<std::string, std::string>& env = {}, std::string* output = nullptr) const;

private:
    std::string log_path_;
};

}  // namespace cdb::chaos
