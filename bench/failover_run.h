#pragma once
// The failover measurement shared by failover_bench (this system) and sentinel_failover_bench (Redis
// Sentinel), so both sides are timed and checked by the same code: one client writes steadily, the
// master's Redis is killed with SIGKILL, the failover lasts until the first acknowledged write that
// was sent after the kill; the killed Redis restarts empty; repeat. At the end, once the system is
// back to full strength, every acknowledged write is read back: one that is gone was lost.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cdb::bench {

// What the measurement needs from a system under test. write() is only called by the writer thread;
// the other members only by the thread that kills, and read() only once writing has stopped.
class FailoverTarget {
public:
    virtual ~FailoverTarget() = default;
    // One attempt to set `key`. On acknowledgement, how the write was replicated (X-Replication's
    // vocabulary: "synced", "degraded", "async", "none"); nullopt when it was not acknowledged.
    virtual std::optional<std::string> write(const std::string& key, const std::string& value) = 0;
    virtual std::optional<std::string> read(const std::string& key) = 0;
    // Back to full strength (every replica attached), so that the next kill measures a failover and
    // not the tail of the previous one.
    virtual bool settled() = 0;
    virtual int master() = 0;  // which Redis to kill; -1 when unknown
    virtual void kill(int redis) = 0;
    virtual void restart(int redis) = 0;  // it comes back empty, like a crashed machine's
};

struct WriteCounts {
    long acknowledged = 0;
    long lost = 0;
};

struct FailoverResult {
    std::vector<double> failover_ms;  // one per completed kill
    long attempts = 0;
    std::map<std::string, WriteCounts> by_replication;
    // Lost writes (every class) by the number of kills before they were sent: [0] before the first
    // kill, [k] between kill k and kill k+1 (or the end). Shows when a system lost them.
    std::vector<long> lost_by_interval;
    std::string stopped_early;  // why fewer kills than asked were measured; empty otherwise
    bool settled_before_read_back = false;
};

struct FailoverOptions {
    int kills = 20;
    std::chrono::milliseconds settle_timeout{15000};
    std::chrono::milliseconds recovery_timeout{10000};
    std::chrono::milliseconds load_before_kill{200};  // steady load before each fault
    // Plus a uniform random part, from a fixed seed: both systems check their master on a fixed
    // period (the LB's probe interval is 200 ms), and kills that follow a settle check by a fixed
    // time all land at one phase of it, so a run measured that phase only (it moved one run's median
    // by 100 ms between two builds that differed in nothing on the failover path).
    std::chrono::milliseconds kill_jitter{1000};
    // After a write that was not acknowledged, as a client's retry back-off (both sides alike).
    std::chrono::milliseconds retry_pause{10};
};

FailoverResult run_failovers(FailoverTarget& target, const FailoverOptions& options);

// A human summary, then one "RAW ..." line per figure for bench/run.sh:
//   RAW failover_ms <ms>   RAW writes <replication> <acknowledged> <lost>   RAW attempts <n>
void print_failover_report(const std::string& title, const FailoverResult& result);

}  // namespace cdb::bench
