#pragma once
// The Redis-leader state machine: (term, leader), recovery after an LB restart, counting the
// leader's failures, and the choice of a new leader. Reads the cluster table, never changes it.
#include <cstdint>
#include <optional>
#include <vector>

#include "cdb/coordination/config.h"
#include "cdb/coordination/decisions.h"
#include "cdb/coordination/events.h"
#include "cdb/coordination/membership.h"

namespace cdb::coordination {

struct Candidate {
    int index = no_cluster;
    std::int64_t offset = 0;
};

// Mode none: the lowest index (independent masters' offsets do not compare). Otherwise the highest
// replication offset (the most data), ties to the lowest index. nullopt when there is no candidate.
std::optional<int> choose_leader(const std::vector<Candidate>& candidates, ReplicationMode mode);

// An election that is needed but has no candidate yet; retried on every event.
struct PendingElection {
    ElectionReason reason = ElectionReason::initial;
    Millis since = 0;
    bool waits_for_leases = false;  // a candidate exists; the old leader's leases have not ended yet
    bool gathers_leavers = false;   // a planned move waits for clusters that may still ask to leave
};

class LeaderElection {
public:
    LeaderElection(ReplicationMode mode, int failure_threshold)
        : mode_(mode), failure_threshold_(failure_threshold) {}

    const LeaderState& state() const { return state_; }
    bool recovering() const { return recovering_; }
    int failures() const { return failures_; }
    const std::optional<PendingElection>& pending() const { return pending_; }
    const std::optional<ElectionRecord>& last_election() const { return last_election_; }
    std::int64_t elections() const { return elections_; }
    // Whether followers should be pointed at the leader's Redis: it answered its latest probe and
    // no election is waiting to replace it, except a planned move (a draining leader still
    // serves). A Redis pointed at a dead leader would look like a follower holding this term's
    // data and could win the next election empty.
    bool leader_serving(const Membership& membership) const;

    // A (term, leader) a slave reported. While recovering the highest is kept. Afterwards a higher
    // term is adopted: only an LB creates terms, so it is the work of an earlier LB run that this
    // one did not hear of.
    void observe_slave_state(const LeaderState& reported, const Membership& membership);
    // Leaves recovery with the highest state heard (term 0 when the system is fresh). Returns false,
    // staying in recovery, while no slave has answered: with no witness, a new term could fork
    // the history of slaves that are only slow to answer.
    bool finish_recovery(const Membership& membership);

    // The latest probe of the leader's Redis; each one closes a probe interval of the leader.
    // `after_orders`: the probe was sent after the LB's last REPLICAOF to that Redis, so its role
    // shows the promotion.
    void observe_leader_probe(const std::optional<RedisInfo>& redis, bool after_orders, Millis now);
    void observe_failure_report(std::int64_t term, Millis now);

    // Elects when an election is needed, a candidate exists and, but for the first leader, every
    // lease on the current one has ended (`leases_end`); a planned move (the leader is draining)
    // also not before `planned_not_before`. Returns what it did.
    std::optional<ElectionRecord> step(const Membership& membership, Millis now, Millis leases_end,
                                       Millis planned_not_before);

private:
    std::optional<ElectionReason> needed(const Membership& membership) const;
    std::vector<Candidate> candidates(const Membership& membership) const;
    void count_failure(Millis now);
    void follow(const LeaderState& state, const Membership& membership);

    ReplicationMode mode_;
    int failure_threshold_;
    LeaderState state_;
    bool recovering_ = true;
    std::optional<LeaderState> highest_heard_;  // while recovering

    // Failure counting of the current leader (docs/ELECTION.md, "Counting failures").
    int failures_ = 0;
    bool failure_in_interval_ = false;  // a report already counted since the leader's last probe
    Millis first_failure_at_ = 0;
    std::int64_t leader_offset_ = 0;    // highest offset the leader's Redis reported since it leads
    bool leader_lost_data_ = false;

    std::optional<PendingElection> pending_;
    std::optional<ElectionRecord> last_election_;
    std::int64_t elections_ = 0;
};

}  // namespace cdb::coordination
