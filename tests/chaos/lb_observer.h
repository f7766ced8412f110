#pragma once
// What the chaos run asks the LB itself: the topology from GET /lb/status (who leads, who is
// ready), whether the system has settled after a fault, and the final value of every key.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "command_runner.h"
#include "history.h"
#include "load_generator.h"

namespace cdb::chaos {

struct Topology {
    long long term = 0;
    int leader = -1;  // -1: none
    std::vector<int> ready;
    int followers = 0;
    std::string replication_mode;
};

class LbObserver {
public:
    explicit LbObserver(Endpoint lb) : lb_(std::move(lb)) {}

    std::optional<Topology> topology() const;  // nullopt when the LB does not answer
    // Settled: `clusters` ready, a leader, and every other cluster's Redis replicating it (unless the
    // mode is none). Polls until then; after `timeout`, an error quoting the last status seen, so
    // that a run that fails on a distant machine says which part never came back.
    Error wait_settled(int clusters, std::chrono::milliseconds timeout) const;
    // Polls until the LB names a leader other than `old_leader`; the new one, or nullopt.
    std::optional<int> wait_new_leader(int old_leader, std::chrono::milliseconds timeout) const;
    // GET /get/{key}, retried while the answer is neither 200 nor 404, for at most `timeout`.
    FinalRead read_final(const KeySpace& keys, const std::string& key, std::chrono::milliseconds timeout) const;

private:
    // The parsed topology, and the raw body it came from.
    std::optional<Topology> topology(std::string& body) const;

    Endpoint lb_;
};

}  // namespace cdb::chaos
