#pragma once
// What the coordinator asks the LB's I/O loop to do after an event, in the order given:
// `redis` orders first (the new leader's promotion leads), then the announcement.
#include <optional>
#include <vector>

#include "cdb/coordination/events.h"

namespace cdb::coordination {

// `REPLICAOF` for cluster `index`'s Redis.
struct ReplicaOf {
    int index = no_cluster;
    std::optional<int> master;  // replicate this cluster's Redis; nullopt: REPLICAOF NO ONE
    bool operator==(const ReplicaOf& other) const { return index == other.index && master == other.master; }
};

// `PUT /internal/leader {"term", "leader", "followers"}` to the slave of every cluster in `to`.
struct Announcement {
    LeaderState state;
    int followers = 0;
    std::vector<int> to;  // ascending
};

enum class ElectionReason {
    initial,           // no slave knew a leader: the first election of a fresh system
    leader_failed,     // failure_threshold consecutive failed intervals
    leader_lost_data,  // the leader's Redis came back with a lower offset: it restarted empty
    leader_drained,    // planned move: the leader's cluster is about to be removed
    leader_removed,    // the leader's cluster left the membership without a drain
};
const char* to_string(ElectionReason reason);

struct ElectionRecord {
    LeaderState state;  // the new (term, leader)
    ElectionReason reason = ElectionReason::initial;
    Millis started_at = 0;  // first failure of the streak, or when the need arose
    Millis ended_at = 0;    // when the leader was chosen
};

struct Decisions {
    std::optional<ElectionRecord> elected;  // set when this event raised the term
    std::vector<ReplicaOf> redis;
    std::optional<Announcement> announce;
    std::vector<int> admit;    // slaves that now receive forwarded requests
    std::vector<int> eject;    // slaves that no longer do
    std::vector<int> drained;  // draining clusters that no longer hold the leader: safe to remove
    bool empty() const {
        return !elected && redis.empty() && !announce && admit.empty() && eject.empty() && drained.empty();
    }
};

}  // namespace cdb::coordination
