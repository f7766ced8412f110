#pragma once
// The coordinator's knobs. The LB fills them from the deployment configuration (docs/CONFIG.md);
// this library does not read files, so it stays free of the JSON and environment code.
#include "cdb/coordination/events.h"

namespace cdb::coordination {

// How followers' Redis relate to the leader's (replication.mode).
enum class ReplicationMode { none, async, sync };

struct Config {
    ReplicationMode mode = ReplicationMode::sync;
    // Consecutive failed probe intervals of the leader that start an election
    // (election.failure_threshold).
    int failure_threshold = 3;
    // Consecutive failed health probes or forwarded requests that take a slave out of forwarding.
    int eject_after = 3;
    // Longest wait after a (re)start for every cluster's first probe before the LB settles the
    // leader from what the slaves that did answer report (ElectionTimings::recovery_window).
    Millis recovery_window_ms = 1000;
    // Period of the announcement to all slaves that repairs any announcement that got lost.
    Millis reannounce_interval_ms = 5000;
    // How long a lease the LB grants a slave on the leader lasts, on the slave's clock, from the
    // moment the slave sent the nonce it names (docs/ELECTION.md, "Leases"): ElectionTimings::lease.
    // This default is its value for the default 200 ms probe interval.
    Millis lease_ms = 500;
    // How long a planned move of the leadership waits after the latest leave request
    // (on_cluster_leaving) before it elects: clusters stopped together (a scale-down, a node drain)
    // ask within a few milliseconds of each other, and one that asks late must not be chosen. The
    // LB derives it from the probe interval (coordinator_loop.cpp); the move waits for the old
    // leader's leases anyway, which last longer, so with the defaults it costs nothing.
    Millis leave_gathering_ms = 400;
    // The clusters wanted at start (cluster.size); an operator changes it with on_size_requested.
    int size = 1;
    // Each cluster has its own name (slave-{i}), and a name that resolves is a cluster that exists;
    // false when all share one host (local runs) and only the size says which exist.
    bool names_per_cluster = true;
};

// Throws std::invalid_argument naming the first field out of range.
void validate(const Config& config);

}  // namespace cdb::coordination
