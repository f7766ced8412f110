#pragma once
// The slave's rule for following the LB (docs/PROTOCOL.md): a higher term wins, the same term may
// only repeat the same leader, a lower term is stale. Pure, so the rule is unit-tested alone.
#include "cdb/announced_leader.h"

namespace cdb {

enum class LeaderUpdate {
    adopted,    // higher term: the proposal replaces the state
    confirmed,  // same term and leader: only `followers` may change
    stale,      // lower term: refuse, tell the sender the newer state
    conflict,   // same term, other leader: refuse (two leaders in one term must never both be obeyed)
};

// Applies `proposal` to `state` when the rule allows, and says what happened.
LeaderUpdate apply_leader_update(AnnouncedLeader& state, const AnnouncedLeader& proposal);
const char* to_string(LeaderUpdate update);

}  // namespace cdb
