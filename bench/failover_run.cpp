#include "failover_run.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "summary.h"
#include "test_processes.h"

namespace cdb::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Acknowledged {
    std::string key;
    std::string value;
    Clock::time_point sent_at;
    Clock::time_point acknowledged_at;
    std::string replication;
};

struct WriteLog {
    std::mutex mutex;
    std::vector<Acknowledged> acknowledged;
    std::atomic<long> attempts{0};
};

void write_steadily(FailoverTarget& target, WriteLog& log, const std::atomic<bool>& stop,
                    std::chrono::milliseconds retry_pause) {
    for (long i = 0; !stop; ++i) {
        const std::string key = "bench-" + std::to_string(i);
        const std::string value = "v" + std::to_string(i);
        ++log.attempts;
        const auto sent_at = Clock::now();
        if (auto replication = target.write(key, value)) {
            std::lock_guard<std::mutex> lock(log.mutex);
            log.acknowledged.push_back({key, value, sent_at, Clock::now(), *replication});
        } else {
            std::this_thread::sleep_for(retry_pause);
        }
    }
}

// When the first write sent after `killed_at` was acknowledged (a write in flight at the kill proves
// nothing), if there is one yet.
std::optional<Clock::time_point> first_acknowledged_after(WriteLog& log, Clock::time_point killed_at) {
    std::lock_guard<std::mutex> lock(log.mutex);
    if (log.acknowledged.empty() || log.acknowledged.back().sent_at <= killed_at) return std::nullopt;
    return std::find_if(log.acknowledged.begin(), log.acknowledged.end(),
                        [&](const Acknowledged& write) { return write.sent_at > killed_at; })
        ->acknowledged_at;
}

}  // namespace

FailoverResult run_failovers(FailoverTarget& target, const FailoverOptions& options) {
    FailoverResult result;
    WriteLog log;
    std::atomic<bool> stop{false};
    std::thread writer([&] { write_steadily(target, log, stop, options.retry_pause); });
    std::vector<Clock::time_point> kills;
    std::mt19937 random(20261205);
    std::uniform_int_distribution<long> jitter_ms(0, options.kill_jitter.count());
    for (int kill = 1; kill <= options.kills; ++kill) {
        if (!test::wait_until([&] { return target.settled(); }, options.settle_timeout)) {
            result.stopped_early = "the system did not settle before kill " + std::to_string(kill);
            break;
        }
        std::this_thread::sleep_for(options.load_before_kill + std::chrono::milliseconds(jitter_ms(random)));
        const int master = target.master();
        if (master < 0) {
            result.stopped_early = "no master known before kill " + std::to_string(kill);
            break;
        }
        const auto killed_at = Clock::now();
        kills.push_back(killed_at);
        target.kill(master);
        std::optional<Clock::time_point> recovered_at;
        if (!test::wait_until([&] { return (recovered_at = first_acknowledged_after(log, killed_at)).has_value(); },
                        options.recovery_timeout)) {
            result.stopped_early = "no acknowledged write within " +
                                   std::to_string(options.recovery_timeout.count()) + " ms after kill " +
                                   std::to_string(kill);
            break;
        }
        result.failover_ms.push_back(std::chrono::duration<double, std::milli>(*recovered_at - killed_at).count());
        target.restart(master);
    }
    stop = true;
    writer.join();
    // Read back what the system keeps, not what a master about to be demoted still holds: Sentinel
    // may be failing over a live master when the writes stop, and the old master, still named by
    // some sentinels, has every write until it resyncs from the new one.
    result.settled_before_read_back =
        test::wait_until([&] { return target.settled(); }, options.settle_timeout);

    result.attempts = log.attempts;
    result.lost_by_interval.assign(kills.size() + 1, 0);
    for (const auto& write : log.acknowledged) {
        auto& counts = result.by_replication[write.replication];
        ++counts.acknowledged;
        if (target.read(write.key) != write.value) {
            ++counts.lost;
            ++result.lost_by_interval[std::upper_bound(kills.begin(), kills.end(), write.sent_at) - kills.begin()];
        }
    }
    return result;
}

void print_failover_report(const std::string& title, const FailoverResult& result) {
    std::printf("%s: %zu kills of the master's Redis\n", title.c_str(), result.failover_ms.size());
    if (!result.stopped_early.empty()) std::printf("  stopped early: %s\n", result.stopped_early.c_str());
    if (!result.settled_before_read_back) std::printf("  read back before the system settled: losses may be missed\n");
    if (!result.failover_ms.empty()) {
        const auto s = summarize(result.failover_ms);
        std::printf("  kill -> first acknowledged write (ms): min %.0f  median %.0f  mean %.0f  p90 %.0f  max %.0f\n",
                    s.min, s.median, s.mean, s.p90, s.max);
    }
    long acknowledged = 0;
    for (const auto& [replication, counts] : result.by_replication) acknowledged += counts.acknowledged;
    std::printf("  writes attempted %ld, acknowledged %ld\n", result.attempts, acknowledged);
    for (const auto& [replication, counts] : result.by_replication) {
        std::printf("  %-9s acknowledged %6ld  lost %ld\n", replication.c_str(), counts.acknowledged, counts.lost);
    }
    if (acknowledged > 0) {
        std::printf("  lost, by when they were sent: before kill 1: %ld", result.lost_by_interval.front());
        for (std::size_t i = 1; i < result.lost_by_interval.size(); ++i) {
            std::printf(", after kill %zu: %ld", i, result.lost_by_interval[i]);
        }
        std::printf("\n");
    }
    for (double ms : result.failover_ms) std::printf("RAW failover_ms %.1f\n", ms);
    for (const auto& [replication, counts] : result.by_replication) {
        std::printf("RAW writes %s %ld %ld\n", replication.c_str(), counts.acknowledged, counts.lost);
    }
    std::printf("RAW attempts %ld\n", result.attempts);
    if (!result.stopped_early.empty()) std::printf("RAW stopped_early %s\n", result.stopped_early.c_str());
}

}  // namespace cdb::bench
