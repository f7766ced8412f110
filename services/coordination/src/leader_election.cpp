#include "cdb/coordination/leader_election.h"

#include <algorithm>

namespace cdb::coordination {

std::optional<int> choose_leader(const std::vector<Candidate>& candidates, ReplicationMode mode) {
    const auto better = [mode](const Candidate& a, const Candidate& b) {
        if (mode == ReplicationMode::none || a.offset == b.offset) return a.index < b.index;
        return a.offset > b.offset;
    };
    const auto best = std::min_element(candidates.begin(), candidates.end(), better);
    if (best == candidates.end()) return std::nullopt;
    return best->index;
}

void LeaderElection::observe_slave_state(const LeaderState& reported, const Membership& membership) {
    if (recovering_) {
        if (!highest_heard_ || reported.term > highest_heard_->term) highest_heard_ = reported;
    } else if (reported.term > state_.term) {
        follow(reported, membership);
    }
}

bool LeaderElection::finish_recovery(const Membership& membership) {
    if (!highest_heard_) return false;
    recovering_ = false;
    if (highest_heard_->term > 0) follow(*highest_heard_, membership);
    highest_heard_.reset();
    return true;
}

// A failure is a probe interval of the leader (the time between two of its probes) in which its
// probe failed or a slave reported it failing; a passing probe ends the streak. So a burst of
// reports is one failure, yet a report still counts at once instead of waiting for the probe.
void LeaderElection::observe_leader_probe(const std::optional<RedisInfo>& redis, bool after_orders, Millis now) {
    if (recovering_ || state_.term == 0) return;
    if (!redis) {
        if (!failure_in_interval_) count_failure(now);
        failure_in_interval_ = false;
        return;
    }
    failures_ = 0;
    failure_in_interval_ = false;
    // A master's offset only grows while it keeps its data. Less than before means its Redis
    // restarted empty; its replicas would copy the emptiness at their next sync, so in the modes
    // that replicate it is replaced now. Every Redis starts as a replica of nowhere and only the
    // LB points a Redis anywhere: a leader seen replicating nowhere has restarted, empty. (One
    // seen replicating another cluster was repointed by hand: drift repair promotes it back.)
    // Mode none has no replicas to protect.
    const bool restarted = after_orders && redis->role == RedisRole::replica && redis->master == no_cluster;
    const bool shrank = redis->role == RedisRole::master && redis->offset < leader_offset_;
    if (mode_ != ReplicationMode::none && (restarted || shrank)) leader_lost_data_ = true;
    leader_offset_ = std::max(leader_offset_, redis->offset);
}

void LeaderElection::observe_failure_report(std::int64_t term, Millis now) {
    if (recovering_ || state_.term == 0 || term != state_.term || failure_in_interval_) return;
    count_failure(now);
    failure_in_interval_ = true;
}

void LeaderElection::count_failure(Millis now) {
    if (failures_ == 0) first_failure_at_ = now;
    ++failures_;
}

bool LeaderElection::leader_serving(const Membership& membership) const {
    const ClusterState* leader = membership.find(state_.leader);
    return state_.term > 0 && leader && leader->redis &&
           (!pending_ || pending_->reason == ElectionReason::leader_drained);
}

std::optional<ElectionRecord> LeaderElection::step(const Membership& membership, Millis now, Millis leases_end,
                                                   Millis planned_not_before) {
    const std::optional<ElectionReason> reason = needed(membership);
    if (!reason) {
        pending_.reset();
        return std::nullopt;
    }
    if (!pending_ || pending_->reason != *reason) {
        pending_ = PendingElection{*reason, *reason == ElectionReason::leader_failed ? first_failure_at_ : now};
    }
    const std::optional<int> chosen = choose_leader(candidates(membership), mode_);
    if (!chosen && *reason == ElectionReason::leader_lost_data) {
        // No Redis holds more of this term's data than the restarted leader: keep it, and let
        // the followers resync from it rather than leave the system without a working leader.
        leader_lost_data_ = false;
        pending_.reset();
        return std::nullopt;
    }
    pending_->waits_for_leases = chosen && state_.term > 0 && now < leases_end;
    pending_->gathers_leavers = chosen && *reason == ElectionReason::leader_drained && now < planned_not_before;
    if (!chosen || pending_->waits_for_leases || pending_->gathers_leavers) return std::nullopt;
    const ElectionRecord record{LeaderState{state_.term + 1, *chosen}, *reason, pending_->since, now};
    follow(record.state, membership);
    last_election_ = record;
    ++elections_;
    return record;
}

std::optional<ElectionReason> LeaderElection::needed(const Membership& membership) const {
    if (recovering_) return std::nullopt;
    if (state_.term == 0) return ElectionReason::initial;
    const ClusterState* leader = membership.find(state_.leader);
    if (!leader) return ElectionReason::leader_removed;
    if (leader->draining) return ElectionReason::leader_drained;
    if (leader_lost_data_) return ElectionReason::leader_lost_data;
    if (failures_ >= failure_threshold_) return ElectionReason::leader_failed;
    return std::nullopt;
}

std::vector<Candidate> LeaderElection::candidates(const Membership& membership) const {
    std::vector<Candidate> result;
    for (const auto& [index, cluster] : membership.clusters()) {
        if (cluster.draining || !cluster.redis) continue;
        if (state_.term > 0) {
            if (index == state_.leader) continue;
            // With replication, only a Redis seen replicating the leader holds this term's data.
            // A returning ex-leader (its offset counts writes of an older history) or a fresh
            // cluster must first be repointed and seen so.
            const bool follows = cluster.redis->role == RedisRole::replica && cluster.redis->master == state_.leader;
            if (mode_ != ReplicationMode::none && !follows) continue;
            // A planned move waits for a follower that has all of the leader's data: the leader
            // still runs, and with no lease granted during the move no write comes in, so the
            // followers catch up. Electing one behind would drop what it lacks, the writes
            // acknowledged `degraded` (measured: 30 of 30, a follower still in its first sync).
            // Once the leader's Redis stops answering, whatever is left is the best there is.
            const ClusterState* leader = membership.find(state_.leader);
            const bool planned_move = leader && leader->draining && leader->redis;
            if (mode_ != ReplicationMode::none && planned_move && cluster.redis->offset < leader_offset_) continue;
        }
        result.push_back(Candidate{index, cluster.redis->offset});
    }
    return result;
}

void LeaderElection::follow(const LeaderState& state, const Membership& membership) {
    state_ = state;
    failures_ = 0;
    failure_in_interval_ = false;
    // The data-loss check needs a baseline from before the first probe of the new leadership:
    // the leader's latest probe (a restart in the very next interval must not become the baseline).
    const ClusterState* leader = membership.find(state.leader);
    leader_offset_ = leader && leader->redis ? leader->redis->offset : 0;
    leader_lost_data_ = false;
    pending_.reset();
}

}  // namespace cdb::coordination
