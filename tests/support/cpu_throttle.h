#pragma once
// CPU throttling of one running process through a cgroup of its own: the gray failure of a pod under
// its CPU limit or on a starved node, which keeps running, slowly (issue 20). Shared by the chaos run
// (the throttle-* faults) and bench/gray_bench, so both throttle the same way.
//
// The cpu controller is looked up where it is mounted: cgroup v2 when its hierarchy has it
// (cpu.max), else the v1 hierarchy that has it (cpu.cfs_quota_us / cpu.cfs_period_us). A machine with
// neither, or where this process may not create a cgroup, cannot throttle: unavailable() says why,
// and callers report that instead of failing.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace cdb::test {

class CpuThrottle {
public:
    // Why throttling cannot run on this machine, or nullopt when it can (it creates and removes a
    // cgroup to find out).
    static std::optional<std::string> unavailable();

    CpuThrottle() = default;
    ~CpuThrottle() { release(); }
    CpuThrottle(const CpuThrottle&) = delete;
    CpuThrottle& operator=(const CpuThrottle&) = delete;

    // Limits `pid`, every thread of it, to `percent` of one core until release(). An error names
    // the step that failed; whatever it did is undone by release().
    std::optional<std::string> limit(pid_t pid, int percent);
    // Moves every limited process that still runs back to the cgroup it was in, and removes the
    // cgroups limit() created.
    std::optional<std::string> release();

private:
    struct Limited {
        pid_t pid;
        std::string group;     // the cgroup created for it
        std::string original;  // the cgroup it came from, to go back to
    };
    std::vector<Limited> limited_;
};

}  // namespace cdb::test
