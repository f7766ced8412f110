#pragma once
// The slave's connection to the Redis-leader: follows (term, leader) by the protocol's rule, keeps a
// bounded pool pointed at the leader's Redis, and counts failed operations for the LB.
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "cdb/cluster_addresses.h"
#include "cdb/config.h"
#include "cdb/control_key.h"
#include "cdb/http_types.h"
#include "leader_update.h"
#include "lease.h"
#include "redis_pool.h"

namespace cdb::slave {

enum class LeaderFailure {
    none,
    no_leader,           // no announcement yet
    busy,                // every pooled connection in use: local overload, not the leader's fault
    leader_unreachable,  // connect, timeout or I/O error: counts towards an election
    leader_not_master,   // READONLY/LOADING/MASTERDOWN: our leader is not a usable master; counts too
    no_lease,            // the LB has not confirmed the leader lately: nothing was sent
    lease_expired,       // Redis answered after the lease ended: a read is dropped, a write's outcome unknown
};

struct LeaderCall {
    RedisReply reply = RedisReply::failure("not run");
    LeaderFailure failure = LeaderFailure::none;
    std::string message;
    AnnouncedLeader state;        // the state the call ran under
    // A write that went to the leader's Redis and got no answer (timeout, connection lost): it may
    // have taken effect, there or, after a pause, later. Not the same as a refusal before sending.
    bool outcome_unknown = false;
    std::string replication;  // X-Replication value, for writes
};

class LeaderLink {
public:
    LeaderLink(const DeploymentConfig& config, const ClusterAddresses& addresses);

    // Only the LB may change (term, leader): callers propose what its key proved (docs/PROTOCOL.md).
    LeaderUpdate propose(const AnnouncedLeader& proposal);
    AnnouncedLeader state() const;
    const ControlKey& control_key() const { return control_key_; }
    std::optional<Endpoint> leader_redis() const { return pool_.target(); }

    // Data calls, only under the lease: checked before sending and again once Redis has answered.
    LeaderCall read(const std::vector<std::string>& command);
    // Runs the write, then in sync mode waits (on the same connection, as WAIT requires) for a follower.
    LeaderCall write(const std::vector<std::string>& command);
    // The leader's INFO replication (its offset, for readiness): no data, so no lease needed.
    LeaderCall replication_info();

    Lease& lease() { return lease_; }
    // The LB's X-Lease-Grant on a probe, an announcement or a forwarded request, if any: renews the
    // lease when proven. False when the header is there without the LB's proof: the caller counts
    // it, and refuses a forwarded request (a probe or an announcement is still served).
    bool accept_lease_grant(const HttpRequest& request);

    std::uint64_t failures_total() const { return failures_total_; }
    std::uint64_t failures_consecutive() const { return failures_consecutive_; }

private:
    enum class Use { read, write, probe };  // a probe reads no key: it needs no lease
    LeaderCall run(const std::vector<std::string>& command, Use use);
    std::string replicate(RedisConnection& connection, const AnnouncedLeader& state);
    void record(LeaderCall& call);

    const ClusterAddresses& addresses_;
    const ReplicationConfig replication_;
    const ControlKey control_key_;
    mutable std::mutex mutex_;
    AnnouncedLeader state_;
    RedisPool pool_;
    Lease lease_;
    std::atomic<std::uint64_t> failures_total_{0};
    std::atomic<std::uint64_t> failures_consecutive_{0};
};

}  // namespace cdb::slave
