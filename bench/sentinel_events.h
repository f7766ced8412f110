#pragma once
// What the sentinels did, read back from their logs (their event stream: +sdown, +switch-master,
// +elected-leader...), so that the Sentinel failover bench can show which failovers followed a kill
// and which Sentinel started on a master that was alive.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace cdb::bench {

struct SentinelEvent {
    int sentinel = 0;  // the sentinel's pid, as its log lines start with it
    std::chrono::milliseconds at{0};  // wall clock of the log line
    std::string name;  // "+sdown", "+switch-master"...
    std::vector<std::string> words;  // what follows the name
};

// Every event of the concatenated logs, in time order; other lines are skipped.
std::vector<SentinelEvent> parse_sentinel_events(const std::string& logs);

struct SentinelFailover {
    std::chrono::milliseconds at{0};  // when its leader was elected
    int leader = 0;
    int old_master = 0;  // port
    int promoted = 0;    // port of the selected replica; 0 if the log does not say
    // Between the leader's +switch-master to old_master and its +sdown of it: a master that the
    // leader had just started to watch.
    std::optional<std::chrono::milliseconds> down_after_switch;
    // From the failover to the +convert-to-slave of old_master: how long it stayed a master that
    // Sentinel no longer named (only when it was alive).
    std::optional<std::chrono::milliseconds> demoted_after;
};

std::vector<SentinelFailover> sentinel_failovers(const std::vector<SentinelEvent>& events);

}  // namespace cdb::bench
