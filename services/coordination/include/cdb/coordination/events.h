#pragma once
// What the LB's I/O loop feeds the coordinator: its own probe results and what slaves told it.
// Plain values, so a test can write them by hand (docs/ELECTION.md).
#include <cstdint>
#include <optional>

namespace cdb::coordination {

// Monotonic milliseconds supplied by the caller; the coordinator never reads a clock.
using Millis = std::int64_t;

inline constexpr int no_cluster = -1;

// (term, leader) as the LB announces it and as a slave reports it. Term 0: no leader yet.
struct LeaderState {
    std::int64_t term = 0;
    int leader = no_cluster;
    bool operator==(const LeaderState& other) const { return term == other.term && leader == other.leader; }
    bool operator!=(const LeaderState& other) const { return !(*this == other); }
};

enum class RedisRole { master, replica };

// A cluster's Redis as its INFO replication answered.
struct RedisInfo {
    RedisRole role = RedisRole::master;
    int master = no_cluster;    // replica: the cluster whose Redis it replicates (no_cluster: not one of ours)
    std::int64_t offset = 0;    // master_repl_offset (on a replica: how far it has replicated)
};

// A cluster is probed in two independent parts, each on its own schedule and deadline, so that a
// frozen slave does not hide its healthy Redis, nor a frozen Redis its healthy slave, and no
// cluster's silence holds another's answers back (docs/ELECTION.md, "Probes").

// GET /status on cluster `index`'s slave.
struct SlaveProbe {
    int index = no_cluster;
    std::optional<LeaderState> state;  // the slave's (term, leader); nullopt: it did not answer in time
    bool stopping = false;             // the slave answered that it is stopping (then `state` is nullopt)
    std::optional<std::uint64_t> lease_nonce;  // what the slave's answer carried, for a lease on it
};

// INFO replication on cluster `index`'s Redis.
struct RedisProbe {
    int index = no_cluster;
    std::optional<RedisInfo> info;  // nullopt: Redis unreachable (connect, timeout or error)
};

// A slave's `503` with `X-Leader-Failure: term` (docs/PROTOCOL.md §3) on a forwarded request.
struct LeaderFailureReport {
    int from = no_cluster;
    std::int64_t term = 0;
};

}  // namespace cdb::coordination
