#pragma once
// The local mode: ./launch-env N --local, every part a process on 127.0.0.1 whose PID the launcher
// keeps in .run/local/{lb,slave-i,redis-i}.pid. Faults are signals to those PIDs.
#include <sys/types.h>

#include <vector>

#include "cpu_throttle.h"
#include "deployment.h"

namespace cdb::chaos {

class LocalDeployment : public Deployment {
public:
    LocalDeployment(std::string repo, const CommandRunner& commands);

    std::string mode() const override { return "local"; }
    Endpoint lb() const override { return {"127.0.0.1", port_}; }
    Error launch(int clusters) override;
    Error start_missing() override;
    Error stop() override;
    Error kill_cluster(int index) override;
    Error kill_redis(int index) override;
    Error pause_cluster(int index) override;
    Error resume_paused() override;
    bool can_pause_part() const override { return true; }
    Error pause_part(const Part& part) override;
    Error cannot_throttle() const override;
    Error throttle_part(const Part& part, int percent) override;
    Error unthrottle() override;
    Error kill_lb() override;
    Error keep_logs(const std::string& into) const override;
    std::map<std::string, std::string> lb_environment() override;

private:
    std::optional<pid_t> live_pid(const std::string& part) const;  // part: lb, slave-3, redis-0
    static std::string part_name(const Part& part);                 // its name in .run/local
    Error kill(const std::string& part);
    Error pause(const std::string& part);
    Error launcher(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const;

    const std::string repo_;
    const std::string run_dir_;
    const CommandRunner& commands_;
    int clusters_ = 0;
    int port_ = 0;
    bool launched_ = false;
    std::vector<pid_t> paused_;
    test::CpuThrottle throttle_;
    // Whether this machine can throttle, found once: finding out creates and removes a cgroup.
    mutable std::optional<Error> cannot_throttle_;
};

}  // namespace cdb::chaos
