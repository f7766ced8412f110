#include "local_deployment.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_processes.h"

namespace cdb::chaos {

LocalDeployment::LocalDeployment(std::string repo, const CommandRunner& commands)
    : repo_(std::move(repo)), run_dir_(repo_ + "/.run/local"), commands_(commands) {}

Error LocalDeployment::launcher(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
    std::vector<std::string> argv{repo_ + "/launch-env"};
    argv.insert(argv.end(), args.begin(), args.end());
    return commands_.run(argv, timeout);
}

Error LocalDeployment::launch(int clusters) {
    if (live_pid("lb")) {
        return "a local system already runs from " + run_dir_ + "; stop it with './launch-env down --local' first";
    }
    clusters_ = clusters;
    port_ = test::free_port_block(1);
    launched_ = true;
    return launcher({std::to_string(clusters), "--local", "--port", std::to_string(port_)}, std::chrono::minutes(3));
}

Error LocalDeployment::start_missing() {
    return launcher({std::to_string(clusters_), "--local", "--port", std::to_string(port_)}, std::chrono::minutes(2));
}

Error LocalDeployment::stop() {
    if (!launched_) return std::nullopt;
    launched_ = false;
    return launcher({"down", "--local"}, std::chrono::minutes(1));
}

std::optional<pid_t> LocalDeployment::live_pid(const std::string& part) const {
    std::ifstream file(run_dir_ + "/" + part + ".pid");
    pid_t pid = 0;
    if (!(file >> pid) || pid <= 0 || !process_alive(pid)) return std::nullopt;
    return pid;
}

Error LocalDeployment::kill(const std::string& part) {
    auto pid = live_pid(part);
    if (!pid) return part + " does not run (no live PID in " + run_dir_ + "/" + part + ".pid)";
    ::kill(*pid, SIGKILL);
    // The launcher starts only what it sees dead, so wait until the kernel says so.
    if (!test::wait_until([&] { return !process_alive(*pid); }, std::chrono::seconds(5))) {
        return part + " (PID " + std::to_string(*pid) + ") survived SIGKILL for 5 s";
    }
    return std::nullopt;
}

Error LocalDeployment::kill_cluster(int index) {
    if (auto error = kill("slave-" + std::to_string(index))) return error;
    return kill("redis-" + std::to_string(index));
}

Error LocalDeployment::kill_redis(int index) { return kill("redis-" + std::to_string(index)); }

Error LocalDeployment::pause(const std::string& part) {
    auto pid = live_pid(part);
    if (!pid) return part + " does not run";
    ::kill(*pid, SIGSTOP);
    paused_.push_back(*pid);
    return std::nullopt;
}

Error LocalDeployment::pause_cluster(int index) {
    if (auto error = pause_part({Part::Kind::slave, index})) return error;
    return pause_part({Part::Kind::redis, index});
}

std::string LocalDeployment::part_name(const Part& part) {
    switch (part.kind) {
        case Part::Kind::slave: return "slave-" + std::to_string(part.index);
        case Part::Kind::redis: return "redis-" + std::to_string(part.index);
        case Part::Kind::lb: return "lb";
    }
    return "unknown";
}

Error LocalDeployment::pause_part(const Part& part) { return pause(part_name(part)); }

Error LocalDeployment::cannot_throttle() const {
    if (!cannot_throttle_) cannot_throttle_ = test::CpuThrottle::unavailable();
    return *cannot_throttle_;
}

Error LocalDeployment::throttle_part(const Part& part, int percent) {
    if (Error why = cannot_throttle()) return why;
    auto pid = live_pid(part_name(part));
    if (!pid) return part_name(part) + " does not run";
    return throttle_.limit(*pid, percent);
}

Error LocalDeployment::unthrottle() { return throttle_.release(); }

Error LocalDeployment::resume_paused() {
    for (pid_t pid : paused_) ::kill(pid, SIGCONT);
    paused_.clear();
    return std::nullopt;
}

Error LocalDeployment::kill_lb() { return kill("lb"); }

Error LocalDeployment::keep_logs(const std::string& into) const {
    std::error_code failure;
    std::filesystem::create_directories(into, failure);
    for (const auto& entry : std::filesystem::directory_iterator(run_dir_, failure)) {
        if (entry.path().extension() != ".log") continue;
        std::filesystem::copy_file(entry.path(), into + "/" + entry.path().filename().string(),
                                   std::filesystem::copy_options::overwrite_existing, failure);
        if (failure) break;
    }
    if (failure) return "cannot copy the logs of " + run_dir_ + " into " + into + ": " + failure.message();
    return std::nullopt;
}

std::map<std::string, std::string> LocalDeployment::lb_environment() {
    auto pid = live_pid("lb");
    if (!pid) return {};
    std::ifstream file("/proc/" + std::to_string(*pid) + "/environ");
    std::ostringstream text;
    text << file.rdbuf();
    return environment_from(text.str(), '\0');
}

}  // namespace cdb::chaos
