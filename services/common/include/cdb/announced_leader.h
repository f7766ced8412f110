#pragma once
// Who leads, as the LB announces it to the slaves and they report it back (docs/PROTOCOL.md). The
// coordinator's own (term, leader) is coordination::LeaderState; this is the wire's, with the
// follower count the slaves need for their writes' replication.
#include <cstdint>

namespace cdb {

struct AnnouncedLeader {
    std::int64_t term = 0;  // 0: no leader known yet
    int leader = -1;
    int followers = 0;      // Redis replicas attached to the leader, as announced
    bool known() const { return term > 0 && leader >= 0; }
};

}  // namespace cdb
