#pragma once
// Which clusters exist, what their latest probe said, and whether their slave receives forwarded
// requests (upstream health). Knows nothing about terms or elections.
#include <map>
#include <optional>
#include <vector>

#include "cdb/coordination/events.h"

namespace cdb::coordination {

struct ClusterState {
    bool slave_probed = false;         // at least one slave probe result arrived
    bool redis_probed = false;         // at least one Redis probe result arrived
    std::optional<LeaderState> slave;  // latest probe: the slave's (term, leader); nullopt: no answer
    std::optional<RedisInfo> redis;    // latest probe: nullopt if Redis was unreachable
    int slave_failures = 0;            // consecutive failed health probes or forwarded requests
    bool admitted = false;             // receives forwarded requests: since an answer, until ejected
    bool draining = false;             // about to be removed: no forwarding, never chosen as leader
    // Its slave asked to leave (it was told to stop): draining until a probe shows a slave that is
    // not stopping (a new process) or the cluster is gone, whatever the desired size says.
    bool leaving = false;
    bool probed() const { return slave_probed && redis_probed; }
};

enum class UpstreamChange { none, admitted, ejected };

class Membership {
public:
    explicit Membership(int eject_after) : eject_after_(eject_after) {}

    // Makes `present` the set of clusters: new ones start unprobed, missing ones are forgotten.
    void set_present(const std::vector<int>& present);

    // None for a cluster that is not a member (a result still in flight after removal).
    UpstreamChange record_slave_probe(const SlaveProbe& probe);
    // False for a cluster that is not a member.
    bool record_redis_probe(const RedisProbe& probe);
    UpstreamChange record_forward_failure(int index);
    // A stopping slave closes its sockets soon: ejected at once, not after `eject_after` failures.
    UpstreamChange record_slave_stopping(int index);

    // False when `index` is not a member.
    bool set_draining(int index, bool draining);
    // Leaving implies draining; ending a leave keeps draining as it is (the caller decides it).
    bool set_leaving(int index, bool leaving);

    const ClusterState* find(int index) const;
    bool contains(int index) const { return find(index) != nullptr; }
    const std::map<int, ClusterState>& clusters() const { return clusters_; }
    std::vector<int> indices() const;
    bool all_probed() const;
    std::vector<int> ready_clusters() const;
    // Clusters whose slave answered its latest probe: the ones an announcement can reach.
    std::vector<int> answering_slaves() const;
    // Reachable clusters whose Redis reports replicating `leader`'s (what `followers` announces).
    int followers_of(int leader) const;

private:
    UpstreamChange count_slave_failure(ClusterState& cluster);
    static UpstreamChange eject(ClusterState& cluster);

    int eject_after_;
    std::map<int, ClusterState> clusters_;
};

}  // namespace cdb::coordination
