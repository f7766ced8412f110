// Failover of Redis Sentinel (1 master, 2 replicas, 3 sentinels) under a steady write load, measured
// by the same code as failover_bench (bench/failover_run.h), for a comparison in the same run.
// The client is Sentinel-aware: after a failed write it asks the sentinels for the master, connects
// with bounded timeouts and checks ROLE. Each SET is followed by WAIT 1 <wait_ms>, the equivalent of
// the `sync` mode: "synced" when a replica confirmed in time, else "degraded" (on the master only).
// After the figures, every failover the sentinels ran (from their logs): which master, whether the
// bench had killed it, which replica they promoted.
//   sentinel_failover_bench [kills=20] [wait_ms=100] [down_after_ms=1000]
#include <cstdio>

#include "failover_run.h"
#include "sentinel_events.h"
#include "sentinel_system.h"

using namespace std::chrono_literals;

namespace {

class SentinelTarget : public cdb::bench::FailoverTarget {
public:
    SentinelTarget(cdb::bench::SentinelSystem& system, int wait_ms)
        : system_(system), wait_ms_(std::to_string(wait_ms)), timeouts_{200ms, 500ms + std::chrono::milliseconds(wait_ms)} {}

    std::optional<std::string> write(const std::string& key, const std::string& value) override {
        if (!writer_) writer_ = cdb::bench::connect_to_master(system_, timeouts_);
        if (!writer_) return std::nullopt;
        if (!writer_->command({"SET", key, value}).is_status("OK")) {
            writer_.reset();  // down, or demoted (READONLY): rediscover the master
            return std::nullopt;
        }
        const auto replicas = writer_->command({"WAIT", "1", wait_ms_}).integer();
        if (!replicas) {
            writer_.reset();
            return std::nullopt;
        }
        return *replicas >= 1 ? "synced" : "degraded";
    }
    std::optional<std::string> read(const std::string& key) override {
        if (!reader_) reader_ = cdb::bench::connect_to_master(system_, timeouts_);
        if (!reader_) return std::nullopt;
        auto reply = reader_->command({"GET", key});
        if (reply.io_error()) reader_.reset();
        return reply.is_nil() ? std::nullopt : reply.text();
    }
    bool settled() override { return system_.settled(); }
    int master() override {
        const auto candidates = system_.master_candidates();
        return candidates.size() == 1 ? system_.redis_index(candidates.front().port) : -1;
    }
    void kill(int redis) override {
        killed_ports_.push_back(system_.redis(redis).port());
        system_.redis(redis).kill();
    }
    const std::vector<int>& killed_ports() const { return killed_ports_; }
    // As its operator would restart it: a replica of the master the sentinels promoted (a Redis that
    // came back as a master would first be demoted by Sentinel).
    void restart(int redis) override {
        auto master = cdb::bench::connect_to_master(system_, timeouts_);
        // Port 1 when none answers: a replica of nowhere, which Sentinel repoints to its master.
        system_.redis(redis).start_replica_of(master ? master->endpoint().port : 1);
    }

private:
    cdb::bench::SentinelSystem& system_;
    std::string wait_ms_;
    cdb::RedisTimeouts timeouts_;
    std::unique_ptr<cdb::RedisConnection> writer_;
    std::unique_ptr<cdb::RedisConnection> reader_;
    std::vector<int> killed_ports_;
};

double seconds(std::chrono::milliseconds ms) { return static_cast<double>(ms.count()) / 1000; }

// A failover whose master the bench had not just killed was started by Sentinel on a live master:
// the one it had promoted last, which keeps acknowledging writes until it is demoted.
void print_sentinel_failovers(const std::string& logs, const std::vector<int>& killed) {
    const auto events = cdb::bench::parse_sentinel_events(logs);
    const auto failovers = cdb::bench::sentinel_failovers(events);
    std::size_t next_kill = 0;
    int unrequested = 0;
    std::printf("  Sentinel ran %zu failovers for %zu kills:\n", failovers.size(), killed.size());
    for (const auto& failover : failovers) {
        std::printf("    at %5.1f s: master :%d -> promoted :%d; ", seconds(failover.at - events.front().at),
                    failover.old_master, failover.promoted);
        if (next_kill < killed.size() && killed[next_kill] == failover.old_master) {
            std::printf("after kill %zu\n", ++next_kill);
            continue;
        }
        ++unrequested;
        std::printf("NOT KILLED (alive)");
        if (failover.down_after_switch) {
            std::printf(", its leader saw it down %lld ms after switching to it", static_cast<long long>(failover.down_after_switch->count()));
        }
        if (failover.demoted_after) std::printf(", it stayed a master %.1f s more", seconds(*failover.demoted_after));
        std::printf("\n");
    }
    std::printf("RAW unrequested_failovers %d\n", unrequested);
}

}  // namespace

int main(int argc, char** argv) {
    cdb::ignore_sigpipe();
    cdb::bench::FailoverOptions options;
    options.kills = argc > 1 ? std::atoi(argv[1]) : 20;
    const int wait_ms = argc > 2 ? std::atoi(argv[2]) : 100;
    cdb::bench::SentinelSettings settings;
    if (argc > 3) settings.down_after_ms = std::atoi(argv[3]);
    cdb::bench::SentinelSystem system(settings);
    if (!cdb::test::wait_until([&] { return system.settled(); }, 30000ms)) {
        std::fprintf(stderr, "Sentinel not settled:\n%s\n", system.logs().c_str());
        return 1;
    }
    SentinelTarget target(system, wait_ms);
    const auto result = cdb::bench::run_failovers(target, options);
    cdb::bench::print_failover_report("failover (Redis Sentinel): 1 master, 2 replicas, 3 sentinels, down-after " +
                                          std::to_string(settings.down_after_ms) + " ms, WAIT 1 " +
                                          std::to_string(wait_ms) + " ms",
                                      result);
    print_sentinel_failovers(system.logs(), target.killed_ports());
    return 0;
}
