#pragma once
// The Compose mode: ./launch-env N on a Compose project of its own (consult-db-chaos), so that a
// system the user launched is left alone. Containers are found by their Compose labels; faults are
// docker kill, docker pause and docker network disconnect.
#include <vector>

#include "deployment.h"

namespace cdb::chaos {

class ComposeDeployment : public Deployment {
public:
    // `work_dir` keeps the PID of a Docker engine the run had to start, to stop it at the end.
    ComposeDeployment(std::string repo, const CommandRunner& commands, const std::string& work_dir);

    std::string mode() const override { return "compose"; }
    Endpoint lb() const override { return {"127.0.0.1", port_}; }
    Error launch(int clusters) override;
    Error start_missing() override;
    Error stop() override;
    Error kill_cluster(int index) override;
    Error kill_redis(int index) override;
    Error pause_cluster(int index) override;
    Error resume_paused() override;
    Error kill_lb() override;
    Error keep_logs(const std::string& into) const override;
    bool can_disconnect() const override { return true; }
    Error disconnect_cluster(int index) override;
    Error reconnect_disconnected() override;
    std::map<std::string, std::string> lb_environment() override;

private:
    struct Detached {
        std::string container;
        std::string network;
        std::vector<std::string> aliases;  // by which the other containers find it: given back on reconnect
    };

    Error docker(std::vector<std::string> args, std::string* output = nullptr) const;
    Error launcher(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const;
    // The container of a Compose service ("lb", "slave-2"), running or not.
    Error container(const std::string& service, std::string& id) const;
    void stop_started_engine() const;

    const std::string repo_;
    const CommandRunner& commands_;
    const std::string engine_pid_file_;
    int clusters_ = 0;
    int port_ = 0;
    bool launched_ = false;
    std::vector<std::string> paused_;
    std::vector<Detached> detached_;
};

}  // namespace cdb::chaos
