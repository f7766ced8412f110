#include "leader_update.h"

namespace cdb {

LeaderUpdate apply_leader_update(AnnouncedLeader& state, const AnnouncedLeader& proposal) {
    if (proposal.term > state.term) {
        state = proposal;
        return LeaderUpdate::adopted;
    }
    if (proposal.term < state.term) return LeaderUpdate::stale;
    if (proposal.leader != state.leader) return LeaderUpdate::conflict;
    state.followers = proposal.followers;
    return LeaderUpdate::confirmed;
}

const char* to_string(LeaderUpdate update) {
    switch (update) {
        case LeaderUpdate::adopted: return "adopted";
        case LeaderUpdate::confirmed: return "confirmed";
        case LeaderUpdate::stale: return "stale";
        case LeaderUpdate::conflict: return "conflict";
    }
    return "?";
}

}  // namespace cdb
