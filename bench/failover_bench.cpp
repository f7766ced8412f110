// Failover of this system under a steady write load (bench/failover_run.h): kill -9 the leader's
// Redis, time until the next acknowledged write, repeat; then check that every acknowledged write is
// still readable. Prints figures; it passes or fails nothing. Runs the local system on 127.0.0.1 only.
//   failover_bench [kills=20] [clusters=3] [mode=sync]
#include <cstdio>

#include "failover_run.h"
#include "local_system.h"

using namespace cdb::test;

namespace {

class LocalSystemTarget : public cdb::bench::FailoverTarget {
public:
    LocalSystemTarget(LocalSystem& system, int clusters, std::string mode)
        : system_(system), clusters_(clusters), mode_(std::move(mode)), writer_(system.client()) {
        writer_.set_keep_alive(true);
    }

    std::optional<std::string> write(const std::string& key, const std::string& value) override {
        auto answer = writer_.Post("/set", R"({"key":")" + key + R"(","value":")" + value + "\"}", "application/json");
        if (!answer || answer->status != 200) return std::nullopt;
        return answer->get_header_value("X-Replication");
    }
    std::optional<std::string> read(const std::string& key) override { return system_.get(key); }
    bool settled() override {
        auto status = system_.status();
        auto number = [&](const char* name) {
            return status.HasMember(name) && status[name].IsInt() ? status[name].GetInt() : -1;
        };
        return number("leader") >= 0 && (mode_ == "none" || number("followers") == clusters_ - 1);
    }
    int master() override { return system_.leader(); }
    void kill(int redis) override { system_.redis(redis).kill(); }
    // Like every Redis of the system it starts as a replica of nowhere; the LB re-attaches it.
    void restart(int redis) override { system_.redis(redis).start(); }

private:
    LocalSystem& system_;
    int clusters_;
    std::string mode_;
    httplib::Client writer_;  // one keep-alive connection to the LB, like a client's
};

}  // namespace

int main(int argc, char** argv) {
    cdb::bench::FailoverOptions options;
    options.kills = argc > 1 ? std::atoi(argv[1]) : 20;
    const int clusters = argc > 2 ? std::atoi(argv[2]) : 3;
    const std::string mode = argc > 3 ? argv[3] : "sync";
    LocalSystem system(clusters, {{"REPLICATION_MODE", mode}});
    if (!system.wait_ready(clusters)) {
        std::fprintf(stderr, "system not ready:\n%s\n", system.logs().c_str());
        return 1;
    }
    LocalSystemTarget target(system, clusters, mode);
    const auto result = cdb::bench::run_failovers(target, options);
    cdb::bench::print_failover_report(
        "failover (consult-db): " + std::to_string(clusters) + " clusters, replication " + mode, result);
    return 0;
}
