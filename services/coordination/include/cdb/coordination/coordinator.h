#pragma once
// The LB's election coordinator: a pure state machine in the shape of etcd raft. The LB's I/O loop
// calls one `on_*` method per event with the current monotonic time and performs the Decisions it
// returns; the coordinator does no I/O, keeps no clock and starts no thread (docs/ELECTION.md).
// Not thread-safe: the caller serialises the calls.
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include "cdb/coordination/config.h"
#include "cdb/coordination/decisions.h"
#include "cdb/coordination/events.h"
#include "cdb/coordination/leader_election.h"
#include "cdb/coordination/lease_ledger.h"
#include "cdb/coordination/membership.h"
#include "cdb/coordination/roster.h"

namespace cdb::coordination {

// The snapshot behind /lb/status.
struct Status {
    bool recovering = true;  // (term, leader) not yet recovered from the slaves after a start
    LeaderState state;
    int followers = 0;
    int leader_failures = 0;  // consecutive failed intervals of the current leader
    std::optional<PendingElection> pending;  // an election that is needed but has no candidate yet
    std::optional<ElectionRecord> last_election;
    std::int64_t elections = 0;  // held by this LB process
    std::vector<ElectionRecord> recent_elections;  // the newest last, at most recent_elections_kept
    std::map<int, ClusterState> clusters;
    std::vector<int> ready;  // Coordinator::ready_clusters()
    int desired_size = 0;
    std::vector<int> departed;  // Roster::departed(): drained and left
};

// Elections Status::recent_elections lists (the topology page shows them).
inline constexpr std::size_t recent_elections_kept = 10;

class Coordinator {
public:
    // Throws std::invalid_argument when `config` is out of range.
    explicit Coordinator(const Config& config);

    // The set of cluster indices that exist now (startup, and each re-resolution of the names).
    Decisions on_membership(const std::vector<int>& present, Millis now);
    // Time passes: ends the recovery window, retries a pending election, re-announces periodically.
    Decisions on_tick(Millis now);
    // One cluster's slave or Redis probe result, failed or not, sent at `sent_at` (the time the LB
    // sent the probe, <= now). Feed each part's results in the order they were sent. A Redis probe
    // of the leader that is not answered by its deadline is fed as failed then, and its answer
    // when it comes (a slow leader that does answer ends the streak).
    Decisions on_slave_probe(const SlaveProbe& probe, Millis sent_at, Millis now);
    Decisions on_redis_probe(const RedisProbe& probe, Millis sent_at, Millis now);
    // A forwarded request answered 503 with X-Leader-Failure.
    Decisions on_leader_failure(const LeaderFailureReport& report, Millis now);
    // A 409 from a slave (announcement or forwarded request) carrying its (term, leader): a higher
    // term than the LB's is adopted.
    Decisions on_slave_state(int index, const LeaderState& reported, Millis now);
    // A forwarded request that got no HTTP answer from the slave (connect error or timeout).
    Decisions on_forward_failure(int index, Millis now);
    // A forwarded request answered "stopping" (X-Retry-Elsewhere): the slave is ejected at once.
    Decisions on_slave_stopping(int index, Millis now);
    // Planned removal of cluster `index`: leadership moves away first; Decisions::drained says when done.
    Decisions on_drain_requested(int index, Millis now);
    Decisions on_drain_cancelled(int index, Millis now);
    // Cluster `index`'s slave was told to stop and asked to leave (docs/PROTOCOL.md §10; the LB
    // checked its proof): drained like a scale-down, whatever the desired size. A planned move of
    // the leadership waits `leave_gathering_ms` after the latest such request, so that clusters
    // stopped together are all known before one of them is chosen. The leave ends when a probe sent
    // after it shows the cluster's slave serving (a new process), or when the cluster leaves the
    // membership; a cluster that left never departs for the roster (a restarted pod comes back).
    Decisions on_cluster_leaving(int index, Millis now);

    // Scaling (docs/DEPLOY.md#scaling), the events the LB feeds when names decide the membership.
    // The operator's size: clusters at or past it are drained (the leadership moves off them, then
    // Decisions::drained lets them leave); those below it are wanted again.
    Decisions on_size_requested(int size, Millis now);
    // How many cluster names, 0 .. n-1, the LB looks up before its next on_names_resolved.
    int names_to_resolve() const { return roster_.names_to_resolve(membership_); }
    // What those lookups said: the membership follows (Roster::present).
    Decisions on_names_resolved(const std::vector<NameLookup>& lookups, Millis now);

    // A lease for the slave of `index` on the current leader, to send with its next probe or
    // announcement: only while the leader serves and no election is coming, on the slave's latest
    // nonce. From then on no new leader is promoted before every lease granted has ended.
    std::optional<LeaseGrant> grant_lease(int index, Millis now);
    // When an election that waits for the old leader's leases to end can be held: the caller calls
    // on_tick then. nullopt when none waits.
    std::optional<Millis> wake_at() const;

    const LeaderState& leader_state() const { return election_.state(); }
    // Slaves to forward client requests to, ascending.
    std::vector<int> ready_clusters() const { return membership_.ready_clusters(); }
    // True when `index` is draining and holds no leadership (once the orders already returned
    // are carried out): it can be removed. For a leaving cluster: its slave may stop its Redis.
    bool drained(int index) const;
    Status status() const;

private:
    // What one event brought, for settle().
    struct Event {
        Decisions decisions;
        // A member's probe result, and which part it was.
        std::optional<int> slave_probed;
        std::optional<int> redis_probed;
        Millis probe_sent_at = 0;
    };

    // When the coordinator last gave an order about a cluster. A probe sent no later cannot show
    // the order's effect yet, so it must not make the coordinator give the same order again.
    struct Contact {
        Millis redis_ordered_at = std::numeric_limits<Millis>::min();
        Millis announced_at = std::numeric_limits<Millis>::min();
    };

    Decisions handle(Millis now, const std::function<void(Event&)>& apply);
    void settle(Millis now, const LeaderState& before, const std::vector<int>& drained_before, Event& event);
    void repair_redis(bool leader_changed, Millis now, Event& event);
    void announce(Millis now, Event& event);
    bool probe_shows_slave_behind(const Event& event) const;
    Contact contact(int index) const;
    std::vector<int> drained_clusters() const;
    void set_members(const std::vector<int>& present);
    void drain_unwanted();
    void end_leave_of_restarted(const Event& event);

    Config config_;
    Membership membership_;
    LeaderElection election_;
    LeaseLedger leases_;
    Roster roster_;
    std::vector<ElectionRecord> recent_elections_;
    std::optional<Millis> started_at_;      // first event: opens the recovery window
    std::optional<Announcement> broadcast_;  // the last announcement to all answering slaves
    Millis broadcast_at_ = 0;
    std::map<int, Contact> contacts_;
    std::map<int, Millis> leave_requested_at_;  // leaving members: their latest leave request
    std::optional<Millis> latest_leave_at_;     // of any cluster: opens the gathering window
};

}  // namespace cdb::coordination
