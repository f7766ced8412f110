#include "readiness.h"

namespace cdb::slave {

bool caught_up(const ReplicationInfo& replica, std::int64_t leader_offset, std::int64_t bound) {
    return replica.role == "slave" && replica.master_link_up && !replica.sync_in_progress &&
           leader_offset - replica.offset <= bound;
}

Readiness judge_readiness(const ReadinessFacts& facts, std::int64_t bound) {
    const auto not_ready = [](std::string reason) { return Readiness{false, std::move(reason), std::nullopt}; };
    if (!facts.state.known()) {
        return not_ready("no leader known yet (term 0): waiting for the load balancer's announcement");
    }
    if (!facts.own) return not_ready("this cluster's Redis does not answer: " + facts.own_problem);
    const ReplicationInfo& own = *facts.own;
    const std::string leader = "leader " + std::to_string(facts.state.leader) + "'s Redis (" +
                               facts.leader_redis.to_string() + ")";
    if (facts.state.leader == facts.own_index) {
        // A leader whose Redis is still a replica has not been promoted yet: writes would fail.
        if (own.role != "master") return not_ready("this cluster leads, but its Redis is still a replica");
        if (!facts.leader) return not_ready(leader + " does not answer: " + facts.leader_problem);
        return Readiness{true, "leader", std::nullopt};
    }
    if (own.role != "slave") return not_ready("this cluster's Redis is a master, not a replica of " + leader);
    if (Endpoint{own.master_host, own.master_port} != facts.leader_redis) {
        return not_ready("this cluster's Redis replicates " + own.master_host + ":" + std::to_string(own.master_port) +
                         ", not " + leader);
    }
    if (own.sync_in_progress) return not_ready("a full sync from " + leader + " is in progress");
    if (!own.master_link_up) return not_ready("the replication link to " + leader + " is down");
    if (!facts.leader) return not_ready(leader + " does not answer: " + facts.leader_problem);
    if (facts.leader->role != "master") return not_ready(leader + " is not a master");
    const std::int64_t lag = facts.leader->offset - own.offset;
    if (!caught_up(own, facts.leader->offset, bound)) {
        return Readiness{false,
                         std::to_string(lag) + " bytes behind " + leader + " (at most " + std::to_string(bound) + ")",
                         lag};
    }
    return Readiness{true, "follower, caught up with " + leader, lag};
}

}  // namespace cdb::slave
