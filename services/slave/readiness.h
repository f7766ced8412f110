#pragma once
// When a slave is Ready (GET /readyz, docs/PROTOCOL.md §6): when losing the next cluster is safe as
// far as this one is concerned, i.e. its Redis is the leader's or holds the leader's data. An
// orchestrator that waits for Ready before it takes the next pod (a StatefulSet's RollingUpdate, a
// PodDisruptionBudget) then never takes the only up-to-date copy. Pure, so the rule is unit-tested
// alone; ops_api.cpp reads the INFO answers it judges.
#include <cstdint>
#include <optional>
#include <string>

#include "cdb/announced_leader.h"
#include "cdb/cluster_addresses.h"
#include "cdb/redis_info.h"

namespace cdb::slave {

// How far behind the leader's replication stream a follower's Redis may be and still count as
// caught up. Redis's default repl-backlog-size: within it a follower that loses its link resumes
// with a partial resync, without a new full copy. Once the initial sync is loaded a follower on a
// live link is a few writes behind at most; the bound only keeps a busy moment (a large value in
// flight between the two INFO reads) from flapping readiness.
inline constexpr std::int64_t ready_max_lag_bytes = 1024 * 1024;

// A replica's INFO replication, read before the leader's `leader_offset`: its link to the master is
// up, no full sync is running and it is at most `bound` bytes behind.
bool caught_up(const ReplicationInfo& replica, std::int64_t leader_offset, std::int64_t bound);

// What the slave knows and what the Redis INFO answers said.
struct ReadinessFacts {
    int own_index = 0;
    AnnouncedLeader state;
    Endpoint leader_redis;                  // the address the LB gives the followers in REPLICAOF
    std::optional<ReplicationInfo> own;     // this cluster's Redis; nullopt when it did not answer
    std::string own_problem;                // why it did not
    // The leader's Redis, read after `own` through the connections data requests use (for the
    // leader, the same Redis as `own`); nullopt when it did not answer.
    std::optional<ReplicationInfo> leader;
    std::string leader_problem;
};

struct Readiness {
    bool ready = false;
    std::string reason;                   // why not, or which kind of ready
    std::optional<std::int64_t> lag_bytes;  // a follower's, when both offsets were read
};

Readiness judge_readiness(const ReadinessFacts& facts, std::int64_t bound = ready_max_lag_bytes);

}  // namespace cdb::slave
