// Failover under a steady write load: kill -9 the leader's Redis, time until the next acknowledged
// write, repeat; then check that every acknowledged write is still readable. Prints figures; it
// passes or fails nothing. Runs the local system on 127.0.0.1 only.
//   failover_bench [kills=20] [clusters=3] [mode=sync]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include "local_system.h"

using namespace cdb::test;
using Clock = std::chrono::steady_clock;

namespace {

struct Acknowledged {
    std::string key;
    Clock::time_point sent_at;
    Clock::time_point acknowledged_at;
    std::string replication;  // X-Replication: only "synced" writes are promised to survive a kill
};

struct WriteLog {
    std::mutex mutex;
    std::vector<Acknowledged> acknowledged;
    std::atomic<long> attempts{0};
};

void write_steadily(const LocalSystem& system, WriteLog& log, const std::atomic<bool>& stop) {
    for (long i = 0; !stop; ++i) {
        const std::string key = "bench-" + std::to_string(i);
        ++log.attempts;
        const auto sent_at = Clock::now();
        auto answer = system.client().Post(
            "/set", R"({"key":")" + key + R"(","value":"v)" + std::to_string(i) + "\"}", "application/json");
        if (answer && answer->status == 200) {
            std::lock_guard<std::mutex> lock(log.mutex);
            log.acknowledged.push_back({key, sent_at, Clock::now(), answer->get_header_value("X-Replication")});
        }
    }
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
    const int kills = argc > 1 ? std::atoi(argv[1]) : 20;
    const int clusters = argc > 2 ? std::atoi(argv[2]) : 3;
    const std::string mode = argc > 3 ? argv[3] : "sync";
    LocalSystem system(clusters, {{"REPLICATION_MODE", mode}});
    if (!system.wait_ready(clusters)) {
        std::fprintf(stderr, "system not ready:\n%s\n", system.logs().c_str());
        return 1;
    }
    auto followers_settled = [&] {
        auto status = system.status();
        return mode == "none" || (status.HasMember("followers") && status["followers"].GetInt() == clusters - 1);
    };

    WriteLog log;
    std::atomic<bool> stop{false};
    std::thread writer([&] { write_steadily(system, log, stop); });
    std::vector<double> failover_ms;
    for (int kill = 0; kill < kills; ++kill) {
        if (!wait_until(followers_settled, 10000ms)) {
            std::fprintf(stderr, "followers did not settle before kill %d\n", kill + 1);
            break;
        }
        std::this_thread::sleep_for(200ms);  // steady load before the fault
        const int leader = system.leader();
        const auto killed_at = Clock::now();
        system.redis(leader).kill();
        // Failover ends with the first acknowledged write that was sent after the kill (one in
        // flight at the kill proves nothing).
        Clock::time_point recovered_at;
        const bool recovered = wait_until([&] {
            std::lock_guard<std::mutex> lock(log.mutex);
            if (log.acknowledged.empty() || log.acknowledged.back().sent_at <= killed_at) return false;
            recovered_at = std::find_if(log.acknowledged.begin(), log.acknowledged.end(), [&](const Acknowledged& write) {
                               return write.sent_at > killed_at;
                           })->acknowledged_at;
            return true;
        }, 10000ms);
        if (!recovered) {
            std::fprintf(stderr, "no acknowledged write within 10 s after kill %d\n", kill + 1);
            break;
        }
        failover_ms.push_back(std::chrono::duration<double, std::milli>(recovered_at - killed_at).count());
        system.redis(leader).start();  // comes back empty and rejoins as a follower
    }
    stop = true;
    writer.join();

    std::map<std::string, std::pair<long, long>> by_replication;  // X-Replication -> (acknowledged, lost)
    for (const auto& write : log.acknowledged) {
        auto& [acknowledged, lost] = by_replication[write.replication];
        ++acknowledged;
        if (system.get(write.key) != "v" + write.key.substr(write.key.find('-') + 1)) ++lost;
    }
    std::printf("failover: %d clusters, replication %s, %zu kills of the leader's Redis\n", clusters, mode.c_str(),
                failover_ms.size());
    if (!failover_ms.empty()) {
        const double mean = std::accumulate(failover_ms.begin(), failover_ms.end(), 0.0) / failover_ms.size();
        std::printf("  kill -> first acknowledged write (ms): min %.0f  median %.0f  mean %.0f  p90 %.0f  max %.0f\n",
                    percentile(failover_ms, 0), percentile(failover_ms, 0.5), mean, percentile(failover_ms, 0.9),
                    percentile(failover_ms, 1));
    }
    std::printf("  writes attempted %ld, acknowledged %zu\n", log.attempts.load(), log.acknowledged.size());
    for (const auto& [replication, counts] : by_replication) {
        std::printf("  X-Replication %-8s acknowledged %5ld  lost %ld\n", replication.c_str(), counts.first,
                    counts.second);
    }
    return 0;
}
