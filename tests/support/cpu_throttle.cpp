#include "cpu_throttle.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace cdb::test {
namespace {

// Every throttle period is 100 ms, as Kubernetes sets it for a CPU limit.
constexpr int period_us = 100000;

struct CpuHierarchy {
    std::string mount;  // where the hierarchy that has the cpu controller is mounted
    bool v2 = false;
};

std::string read_text(const std::string& path) {
    std::ifstream file(path);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

// Whether `token` is an item of `list` (cgroup files end with a newline, which is no part of it).
bool has_token(std::string list, char separator, const std::string& token) {
    while (!list.empty() && list.back() == '\n') list.pop_back();
    std::istringstream in(list);
    for (std::string item; std::getline(in, item, separator);) {
        if (item == token) return true;
    }
    return false;
}

// A write to a cgroup file: the kernel answers each write(2) on its own, so its errno is the reason.
std::optional<std::string> write_file(const std::string& path, const std::string& value) {
    std::ofstream file(path);
    if (!file) return "cannot open " + path + ": " + std::strerror(errno);
    file << value << std::flush;
    if (!file) return "cannot write '" + value + "' to " + path + ": " + std::strerror(errno);
    return std::nullopt;
}

// The v2 hierarchy when it holds the cpu controller (a controller is in one hierarchy only), else the
// v1 hierarchy mounted with the cpu controller; from /proc/self/mountinfo
// ("id parent dev root mountpoint options ... - fstype source superoptions").
std::optional<CpuHierarchy> cpu_hierarchy(std::string& why) {
    std::ifstream mounts("/proc/self/mountinfo");
    std::optional<CpuHierarchy> v1;
    for (std::string line; std::getline(mounts, line);) {
        const auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
        std::string id, parent, device, root, mount, fstype, source, options;
        head >> id >> parent >> device >> root >> mount;
        tail >> fstype >> source >> options;
        if (fstype == "cgroup2" && has_token(read_text(mount + "/cgroup.controllers"), ' ', "cpu")) {
            return CpuHierarchy{mount, true};
        }
        if (fstype == "cgroup" && has_token(options, ',', "cpu") && !v1) v1 = CpuHierarchy{mount, false};
    }
    if (!v1) why = "no cgroup hierarchy has the cpu controller (neither cgroup v2's cgroup.controllers nor a v1 mount)";
    return v1;
}

// The cgroup of `pid` in that hierarchy, as a directory: /proc/PID/cgroup has "0::/path" for v2 and
// "N:cpu,cpuacct:/path" for v1.
std::optional<std::string> cgroup_of(pid_t pid, const CpuHierarchy& hierarchy) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(file, line);) {
        const auto first = line.find(':'), second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        const std::string controllers = line.substr(first + 1, second - first - 1);
        const bool match = hierarchy.v2 ? line.compare(0, first, "0") == 0 && controllers.empty()
                                        : has_token(controllers, ',', "cpu");
        if (match) return hierarchy.mount + line.substr(second + 1);
    }
    return std::nullopt;
}

// A cgroup named after this process and a counter, so that two runs, or two throttles of one run,
// never share one.
std::string new_group(const CpuHierarchy& hierarchy) {
    static std::atomic<int> counter{0};
    return hierarchy.mount + "/cdb-throttle-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

std::optional<std::string> set_quota(const CpuHierarchy& hierarchy, const std::string& group, int percent) {
    const int quota_us = period_us * percent / 100;
    if (hierarchy.v2) return write_file(group + "/cpu.max", std::to_string(quota_us) + " " + std::to_string(period_us));
    if (auto error = write_file(group + "/cpu.cfs_period_us", std::to_string(period_us))) return error;
    return write_file(group + "/cpu.cfs_quota_us", std::to_string(quota_us));
}

// Creates `group` with the quota. On v2 the parent must hand the cpu controller down first.
std::optional<std::string> make_group(const CpuHierarchy& hierarchy, const std::string& group, int percent) {
    if (hierarchy.v2) {
        const std::string parent = std::filesystem::path(group).parent_path();
        if (!has_token(read_text(parent + "/cgroup.subtree_control"), ' ', "cpu")) {
            if (auto error = write_file(parent + "/cgroup.subtree_control", "+cpu")) return error;
        }
    }
    std::error_code failure;
    if (!std::filesystem::create_directory(group, failure)) {
        return "cannot create the cgroup " + group + ": " + (failure ? failure.message() : "it exists");
    }
    return set_quota(hierarchy, group, percent);
}

// rmdir fails (EBUSY) while the kernel still counts a task that just left: retry for a second.
std::optional<std::string> remove_group(const std::string& group) {
    for (int attempt = 0; attempt < 50; ++attempt) {
        if (::rmdir(group.c_str()) == 0 || errno == ENOENT) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "cannot remove the cgroup " + group + ": " + std::strerror(errno);
}

// Writing a PID to cgroup.procs moves its whole thread group, in v1 as in v2 (`tasks` would move one
// thread); this checks it on every thread, so a kernel that did otherwise is caught, not measured.
std::optional<std::string> check_every_thread(pid_t pid, const CpuHierarchy& hierarchy, const std::string& group) {
    std::error_code failure;
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& task : std::filesystem::directory_iterator(tasks, failure)) {
        const auto tid = static_cast<pid_t>(std::stol(task.path().filename().string()));
        auto in = cgroup_of(tid, hierarchy);
        if (in && *in != group) return "thread " + std::to_string(tid) + " of PID " + std::to_string(pid) + " stayed in " + *in;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> CpuThrottle::unavailable() {
    std::string why;
    auto hierarchy = cpu_hierarchy(why);
    if (!hierarchy) return why;
    const std::string probe = new_group(*hierarchy);
    auto error = make_group(*hierarchy, probe, 5);
    remove_group(probe);
    if (error) return "cgroup " + std::string(hierarchy->v2 ? "v2" : "v1") + " at " + hierarchy->mount + ": " + *error;
    return std::nullopt;
}

std::optional<std::string> CpuThrottle::limit(pid_t pid, int percent) {
    std::string why;
    auto hierarchy = cpu_hierarchy(why);
    if (!hierarchy) return why;
    auto original = cgroup_of(pid, *hierarchy);
    if (!original) return "PID " + std::to_string(pid) + " is in no cgroup of " + hierarchy->mount + " (did it exit?)";
    const std::string group = new_group(*hierarchy);
    if (auto error = make_group(*hierarchy, group, percent)) {
        remove_group(group);
        return error;
    }
    limited_.push_back({pid, group, *original});
    if (auto error = write_file(group + "/cgroup.procs", std::to_string(pid))) return error;
    return check_every_thread(pid, *hierarchy, group);
}

std::optional<std::string> CpuThrottle::release() {
    std::optional<std::string> first_error;
    for (const Limited& limited : limited_) {
        // A process that exited meanwhile has nothing to move back; the cgroup still goes.
        if (::kill(limited.pid, 0) == 0) {
            auto error = write_file(limited.original + "/cgroup.procs", std::to_string(limited.pid));
            if (error && !first_error) first_error = error;
        }
        auto error = remove_group(limited.group);
        if (error && !first_error) first_error = error;
    }
    limited_.clear();
    return first_error;
}

}  // namespace cdb::test
