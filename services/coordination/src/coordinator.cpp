#include "cdb/coordination/coordinator.h"

#include <algorithm>
#include <iterator>

#include "cdb/coordination/redis_topology.h"

namespace cdb::coordination {

namespace {
void note_upstream(int index, UpstreamChange change, Decisions& decisions) {
    if (change == UpstreamChange::admitted) decisions.admit.push_back(index);
    if (change == UpstreamChange::ejected) decisions.eject.push_back(index);
}

const Config& validated(const Config& config) {
    validate(config);
    return config;
}
}  // namespace

Coordinator::Coordinator(const Config& config)
    : config_(validated(config)),
      membership_(config.eject_after),
      election_(config.mode, config.failure_threshold),
      leases_(config.lease_ms),
      roster_(config.size, config.names_per_cluster) {}

Decisions Coordinator::on_membership(const std::vector<int>& present, Millis now) {
    return handle(now, [&](Event&) { set_members(present); });
}

void Coordinator::set_members(const std::vector<int>& present) {
    membership_.set_present(present);
    for (auto it = contacts_.begin(); it != contacts_.end();) {
        it = membership_.contains(it->first) ? std::next(it) : contacts_.erase(it);
    }
    for (auto it = leave_requested_at_.begin(); it != leave_requested_at_.end();) {
        it = membership_.contains(it->first) ? std::next(it) : leave_requested_at_.erase(it);
    }
}

Decisions Coordinator::on_tick(Millis now) {
    return handle(now, [](Event&) {});
}

Decisions Coordinator::on_slave_probe(const SlaveProbe& probe, Millis sent_at, Millis now) {
    return handle(now, [&](Event& event) {
        if (!membership_.contains(probe.index)) return;
        note_upstream(probe.index, membership_.record_slave_probe(probe), event.decisions);
        if (probe.lease_nonce) {
            leases_.observe_nonce(probe.index, *probe.lease_nonce, now);
        } else {
            leases_.forget(probe.index);
        }
        if (probe.state) election_.observe_slave_state(*probe.state, membership_);
        event.slave_probed = probe.index;
        event.probe_sent_at = sent_at;
    });
}

Decisions Coordinator::on_redis_probe(const RedisProbe& probe, Millis sent_at, Millis now) {
    return handle(now, [&](Event& event) {
        if (!membership_.record_redis_probe(probe)) return;
        if (probe.index == election_.state().leader) {
            election_.observe_leader_probe(probe.info, sent_at > contact(probe.index).redis_ordered_at, now);
        }
        event.redis_probed = probe.index;
        event.probe_sent_at = sent_at;
    });
}

Decisions Coordinator::on_leader_failure(const LeaderFailureReport& report, Millis now) {
    return handle(now, [&](Event&) {
        if (membership_.contains(report.from)) election_.observe_failure_report(report.term, now);
    });
}

Decisions Coordinator::on_slave_state(int index, const LeaderState& reported, Millis now) {
    return handle(now, [&](Event&) {
        if (membership_.contains(index)) election_.observe_slave_state(reported, membership_);
    });
}

Decisions Coordinator::on_forward_failure(int index, Millis now) {
    return handle(now, [&](Event& event) {
        note_upstream(index, membership_.record_forward_failure(index), event.decisions);
    });
}

Decisions Coordinator::on_slave_stopping(int index, Millis now) {
    return handle(now, [&](Event& event) {
        note_upstream(index, membership_.record_slave_stopping(index), event.decisions);
    });
}

Decisions Coordinator::on_drain_requested(int index, Millis now) {
    return handle(now, [&](Event&) { membership_.set_draining(index, true); });
}

Decisions Coordinator::on_drain_cancelled(int index, Millis now) {
    return handle(now, [&](Event&) { membership_.set_draining(index, false); });
}

Decisions Coordinator::on_cluster_leaving(int index, Millis now) {
    return handle(now, [&](Event&) {
        const ClusterState* cluster = membership_.find(index);
        // A stopping slave asks again until it is told that its cluster has handed over: only its
        // first request opens the gathering window, or the asking itself would hold the move off.
        if (!cluster || cluster->leaving) return;
        membership_.set_leaving(index, true);
        leave_requested_at_[index] = now;
        latest_leave_at_ = now;
    });
}

Decisions Coordinator::on_size_requested(int size, Millis now) {
    return handle(now, [&](Event&) {
        roster_.request_size(std::clamp(size, 1, max_clusters));
        drain_unwanted();
    });
}

Decisions Coordinator::on_names_resolved(const std::vector<NameLookup>& lookups, Millis now) {
    return handle(now, [&](Event&) {
        set_members(roster_.present(lookups, membership_));
        drain_unwanted();
    });
}

// A drain of a cluster wanted again (a scale-down cancelled by a scale-up) is cancelled: it keeps
// whatever leadership it still has.
void Coordinator::drain_unwanted() {
    for (int index : membership_.indices()) {
        membership_.set_draining(index, !roster_.wanted(index) || membership_.find(index)->leaving);
    }
}

// A slave that asked to leave answers every probe after its request with "stopping" (it began its
// drain before it asked), so a probe sent after the request that finds a slave serving found a new
// process: the cluster was restarted (a rolling restart) and is wanted again.
void Coordinator::end_leave_of_restarted(const Event& event) {
    if (!event.slave_probed || !membership_.find(*event.slave_probed)->slave) return;
    const int index = *event.slave_probed;
    auto leave = leave_requested_at_.find(index);
    if (leave == leave_requested_at_.end() || event.probe_sent_at <= leave->second) return;
    leave_requested_at_.erase(leave);
    membership_.set_leaving(index, false);
    membership_.set_draining(index, !roster_.wanted(index));
}

std::optional<LeaseGrant> Coordinator::grant_lease(int index, Millis now) {
    const bool leader_confirmed = !election_.recovering() && !election_.pending() && election_.failures() == 0 &&
                                  election_.leader_serving(membership_);
    if (!leader_confirmed || !membership_.contains(index)) return std::nullopt;
    return leases_.grant(index, election_.state(), now);
}

std::optional<Millis> Coordinator::wake_at() const {
    const auto& pending = election_.pending();
    if (!pending || (!pending->waits_for_leases && !pending->gathers_leavers)) return std::nullopt;
    Millis at = std::numeric_limits<Millis>::min();
    if (pending->waits_for_leases) at = leases_.all_ended_by();
    if (pending->gathers_leavers) at = std::max(at, *latest_leave_at_ + config_.leave_gathering_ms);
    return at;
}

bool Coordinator::drained(int index) const {
    const ClusterState* cluster = membership_.find(index);
    return cluster && cluster->draining && !election_.recovering() && election_.state().leader != index;
}

Status Coordinator::status() const {
    Status status;
    status.recovering = election_.recovering();
    status.state = election_.state();
    if (status.state.term > 0) status.followers = membership_.followers_of(status.state.leader);
    status.leader_failures = election_.failures();
    status.pending = election_.pending();
    status.last_election = election_.last_election();
    status.elections = election_.elections();
    status.recent_elections = recent_elections_;
    status.clusters = membership_.clusters();
    status.ready = membership_.ready_clusters();
    status.desired_size = roster_.desired_size();
    status.departed.assign(roster_.departed().begin(), roster_.departed().end());
    return status;
}

// Every event ends the same way: the state it changed is settled into decisions.
Decisions Coordinator::handle(Millis now, const std::function<void(Event&)>& apply) {
    if (!started_at_) {
        started_at_ = now;
        leases_.assume_unknown_leases(now);
    }
    const LeaderState before = election_.state();
    const std::vector<int> drained_before = drained_clusters();
    Event event;
    apply(event);
    end_leave_of_restarted(event);
    settle(now, before, drained_before, event);
    return std::move(event.decisions);
}

void Coordinator::settle(Millis now, const LeaderState& before, const std::vector<int>& drained_before,
                         Event& event) {
    if (election_.recovering()) {
        const bool round_done = membership_.all_probed() || now - *started_at_ >= config_.recovery_window_ms;
        if (!round_done || !election_.finish_recovery(membership_)) return;
    }
    const Millis gathered_at = latest_leave_at_ ? *latest_leave_at_ + config_.leave_gathering_ms
                                                : std::numeric_limits<Millis>::min();
    event.decisions.elected = election_.step(membership_, now, leases_.all_ended_by(), gathered_at);
    if (event.decisions.elected) {
        recent_elections_.push_back(*event.decisions.elected);
        if (recent_elections_.size() > recent_elections_kept) recent_elections_.erase(recent_elections_.begin());
    }
    repair_redis(election_.state() != before, now, event);
    announce(now, event);
    const std::vector<int> drained_now = drained_clusters();
    std::set_difference(drained_now.begin(), drained_now.end(), drained_before.begin(), drained_before.end(),
                        std::back_inserter(event.decisions.drained));
    // A cluster that left on its own is no scale-down: the roster keeps wanting it, so that the
    // pod that replaces it (same name) is admitted as soon as it serves.
    for (int index : event.decisions.drained) {
        if (!membership_.find(index)->leaving) roster_.depart(index);
    }
}

// After a leader change every cluster is checked; otherwise only the one a Redis probe just described
// (the others' latest probes were checked when they arrived).
void Coordinator::repair_redis(bool leader_changed, Millis now, Event& event) {
    if (!election_.leader_serving(membership_)) return;
    const int leader = election_.state().leader;
    std::vector<int> targets;
    if (leader_changed) {
        targets = membership_.indices();
    } else if (event.redis_probed && event.probe_sent_at > contact(*event.redis_probed).redis_ordered_at) {
        targets.push_back(*event.redis_probed);
    }
    // The leader first: followers must find a master when they connect.
    std::stable_partition(targets.begin(), targets.end(), [leader](int index) { return index == leader; });
    for (int index : targets) {
        if (auto order = repair_order(index, membership_.find(index)->redis, leader, config_.mode)) {
            event.decisions.redis.push_back(*order);
            contacts_[index].redis_ordered_at = now;
        }
    }
}

// Every answering slave hears of a new (term, leader, followers) and, periodically, of the
// unchanged one; a slave whose probe shows it behind hears of it at once. Slaves that do not
// answer are skipped: their first answer shows them behind.
void Coordinator::announce(Millis now, Event& event) {
    const LeaderState& state = election_.state();
    if (state.term == 0) return;
    Announcement current{state, membership_.followers_of(state.leader), {}};
    const bool changed = !broadcast_ || broadcast_->state != state || broadcast_->followers != current.followers;
    if (changed || now - broadcast_at_ >= config_.reannounce_interval_ms) {
        broadcast_ = current;
        broadcast_at_ = now;
        current.to = membership_.answering_slaves();
    } else if (probe_shows_slave_behind(event)) {
        current.to.push_back(*event.slave_probed);
    }
    if (current.to.empty()) return;
    for (int index : current.to) contacts_[index].announced_at = now;
    event.decisions.announce = std::move(current);
}

bool Coordinator::probe_shows_slave_behind(const Event& event) const {
    if (!event.slave_probed) return false;
    const std::optional<LeaderState>& reported = membership_.find(*event.slave_probed)->slave;
    if (!reported || *reported == election_.state()) return false;
    return event.probe_sent_at > contact(*event.slave_probed).announced_at;
}

Coordinator::Contact Coordinator::contact(int index) const {
    auto it = contacts_.find(index);
    return it == contacts_.end() ? Contact{} : it->second;
}

std::vector<int> Coordinator::drained_clusters() const {
    std::vector<int> result;
    for (int index : membership_.indices()) {
        if (drained(index)) result.push_back(index);
    }
    return result;
}

}  // namespace cdb::coordination
