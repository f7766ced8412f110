#include "coordinator_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "cdb/protocol.h"

namespace cdb::lb {
namespace {

constexpr std::size_t worker_threads = 8;
// One probe and a few announcements per cluster at a time, at most: more waiting means the clusters
// do not answer, and a job dropped is a probe sent next round or an announcement repeated later.
constexpr std::size_t worker_queue_cap = 4 * protocol::max_clusters;
constexpr coordination::Millis membership_refresh_ms = 1000;
static_assert(coordination::max_clusters == protocol::max_clusters,
              "the coordinator looks up exactly the cluster indices the wire protocol can name");

// Every round brings a fresh nonce, and every request forwarded after it carries a grant on it: a
// lease must outlast one interval, with 300 ms for the round itself and a late one (a busy 2-core
// machine delayed rounds by over 200 ms, and every request then got 503). Any longer would only
// hold the next election back (docs/ELECTION.md, "Leases").
coordination::Millis lease_ms(const ElectionConfig& election) { return election.probe_interval_ms + 300LL; }

coordination::Config coordination_config(const DeploymentConfig& config) {
    coordination::Config converted;
    switch (config.replication.mode) {
        case ReplicationMode::none: converted.mode = coordination::ReplicationMode::none; break;
        case ReplicationMode::async: converted.mode = coordination::ReplicationMode::async; break;
        case ReplicationMode::sync: converted.mode = coordination::ReplicationMode::sync; break;
    }
    converted.failure_threshold = config.election.failure_threshold;
    // Long enough for every cluster's first probe round to answer, even a slow one.
    converted.recovery_window_ms = std::max<coordination::Millis>(1000, 3LL * config.election.probe_interval_ms);
    converted.lease_ms = lease_ms(config.election);
    // Clusters stopped together (a scale-down, a node drain) get their signals within a few
    // milliseconds of each other; two intervals are still shorter than the lease wait the move
    // does anyway, so the window costs nothing with the defaults.
    converted.leave_gathering_ms = std::min<coordination::Millis>(60000, 2LL * config.election.probe_interval_ms);
    converted.size = config.cluster.size;
    // With one host for every cluster (local runs) only the desired size says which exist.
    converted.names_per_cluster = config.cluster.host_template.find("{i}") != std::string::npos;
    return converted;
}

}  // namespace

CoordinatorLoop::CoordinatorLoop(const DeploymentConfig& config, const ClusterAddresses& addresses,
                                 RoutingBoard& board, ReportQueue& reports, Metrics& metrics, const ControlKey& key)
    : config_(config),
      addresses_(addresses),
      board_(board),
      reports_(reports),
      metrics_(metrics),
      key_(key),
      coordinator_(coordination_config(config)),
      prober_(config, addresses, key, metrics),
      resolver_(std::chrono::milliseconds(std::max(config.election.probe_interval_ms, 200))),
      workers_(worker_threads, worker_queue_cap),
      epoch_(std::chrono::steady_clock::now()) {
    metrics_.describe("elections_total", "counter", "Elections held by this LB process.");
    metrics_.describe("cluster_up", "gauge", "1 when the cluster's slave receives forwarded requests.");
    snapshot_ = std::make_shared<const CoordinatorSnapshot>(CoordinatorSnapshot{coordinator_.status(), 0});
}

CoordinatorLoop::~CoordinatorLoop() { stop(); }

void CoordinatorLoop::start() { thread_ = std::thread([this] { run(); }); }

void CoordinatorLoop::stop() {
    stopping_ = true;
    reports_.wake();
    if (thread_.joinable()) thread_.join();
}

coordination::Millis CoordinatorLoop::now() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - epoch_).count();
}

void CoordinatorLoop::request_size(int size) {
    requested_size_ = size;
    reports_.wake();
}

void CoordinatorLoop::run() {
    const auto interval = std::chrono::milliseconds(config_.election.probe_interval_ms);
    auto next_round = std::chrono::steady_clock::now();
    while (!stopping_) {
        // An election that waits for the old leader's leases to end is held as soon as they have.
        auto wake = next_round;
        if (const auto leases_end = coordinator_.wake_at()) {
            wake = std::min(wake, epoch_ + std::chrono::milliseconds(*leases_end));
        }
        // One publication per batch: a burst of reports must not rebuild the status thousands of times.
        for (const Report& report : reports_.take_until(wake)) handle(report, now());
        if (const int size = requested_size_.exchange(0)) {
            perform(coordinator_.on_size_requested(size, now()), now());
            membership_refreshed_at_ = -1;  // the next round looks the names up again
        }
        if (const auto leases_end = coordinator_.wake_at(); leases_end && now() >= *leases_end) {
            perform(coordinator_.on_tick(now()), now());
        }
        if (std::chrono::steady_clock::now() < next_round || stopping_) {
            publish(now());
            continue;
        }
        round(now());
        next_round += interval;
        // A round that overran (black-holed clusters) starts the next one at once, not a backlog.
        next_round = std::max(next_round, std::chrono::steady_clock::now());
    }
}

void CoordinatorLoop::handle(const Report& report, Millis now) {
    if (const auto* failure = std::get_if<coordination::LeaderFailureReport>(&report)) {
        perform(coordinator_.on_leader_failure(*failure, now), now);
    } else if (const auto* forward = std::get_if<ForwardFailure>(&report)) {
        perform(coordinator_.on_forward_failure(forward->index, now), now);
    } else if (const auto* stopping = std::get_if<SlaveStopping>(&report)) {
        perform(coordinator_.on_slave_stopping(stopping->index, now), now);
    } else if (const auto* state = std::get_if<SlaveStateReport>(&report)) {
        perform(coordinator_.on_slave_state(state->index, state->state, now), now);
    } else if (const auto* leaving = std::get_if<ClusterLeaving>(&report)) {
        perform(coordinator_.on_cluster_leaving(leaving->index, now), now);
    }
}

void CoordinatorLoop::refresh_membership(Millis now) {
    const int names = coordinator_.names_to_resolve();
    std::vector<std::string> hosts;
    for (int index = 0; index < names; ++index) hosts.push_back(addresses_.host(index));
    const auto answers = resolver_.resolve_all(hosts);
    std::vector<coordination::NameLookup> lookups;
    for (int index = 0; index < names; ++index) {
        const auto& answer = answers[static_cast<std::size_t>(index)];
        // Unanswered: a member stays at its last address.
        if (answer.address) {
            slave_addresses_.insert_or_assign(index, answer.address->with_port(addresses_.slave(index).port));
        }
        lookups.push_back(answer.absent ? coordination::NameLookup::absent
                          : answer.address ? coordination::NameLookup::resolved
                                           : coordination::NameLookup::unanswered);
    }
    perform(coordinator_.on_names_resolved(lookups, now), now);

    const auto members = coordinator_.status().clusters;
    if (names == 0) {  // one host for every cluster
        if (const auto shared_host = resolver_.resolve_all({addresses_.host(0)}).front().address) {
            for (const auto& member : members) {
                slave_addresses_.insert_or_assign(member.first,
                                                  shared_host->with_port(addresses_.slave(member.first).port));
            }
        }
    }
    for (auto it = slave_addresses_.begin(); it != slave_addresses_.end();) {  // only members have one
        it = members.count(it->first) ? std::next(it) : slave_addresses_.erase(it);
    }
}

void CoordinatorLoop::round(Millis now) {
    if (membership_refreshed_at_ < 0 || now - membership_refreshed_at_ >= membership_refresh_ms) {
        refresh_membership(now);
        membership_refreshed_at_ = now;
    }
    for (const auto& [probe, sent_at] : probe_members(coordinator_.status().clusters)) {
        perform(coordinator_.on_probe(probe, sent_at, this->now()), this->now());
    }
    perform(coordinator_.on_tick(this->now()), this->now());
    publish(this->now());
}

std::vector<std::pair<coordination::ClusterProbe, coordination::Millis>> CoordinatorLoop::probe_members(
    const std::map<int, coordination::ClusterState>& members) {
    // The round's length is the probe interval, whatever a frozen cluster does: three rounds of a
    // frozen leader elect within about three intervals (docs/ELECTION.md, "Counting failures").
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.election.probe_interval_ms);
    std::vector<std::pair<coordination::ClusterProbe, Millis>> results;
    std::unique_lock<std::mutex> lock(probes_mutex_);
    for (const auto& member : members) {
        const int index = member.first;
        ProbeSlot& slot = probes_[index];
        if (slot.in_flight) continue;
        if (slot.answer) results.emplace_back(*slot.answer, slot.sent_at);  // came after its round's deadline
        slot = ProbeSlot{true, now(), std::nullopt};
        // Granted here, on the coordinator's thread, before it is sent: from now on the coordinator
        // promotes no new leader before this lease has ended.
        auto grant = coordinator_.grant_lease(index, now());
        auto address = slave_address(index);
        if (!workers_.submit([this, index, address, grant] { record_probe(prober_.probe(index, address, grant)); })) {
            slot.in_flight = false;  // nothing was sent: the next round tries again
        }
    }
    probe_answered_.wait_until(lock, deadline, [&] {
        return std::none_of(members.begin(), members.end(),
                            [&](const auto& member) { return probes_[member.first].in_flight; });
    });
    for (auto it = probes_.begin(); it != probes_.end();) {
        ProbeSlot& slot = it->second;
        if (slot.answer) {
            results.emplace_back(*slot.answer, slot.sent_at);
            slot.answer.reset();
        } else if (slot.in_flight && it->first == coordinator_.status().state.leader) {
            // Only the leader's silence is news: it is how a frozen leader is detected. A follower
            // whose probe is late (its slave's threads all wait on that frozen leader) keeps what
            // its last answer said until the late one comes: counting it down would hide its
            // Redis's offset from the election, which could then pick a follower that lacks
            // acknowledged writes, and would eject every slave while the leader is frozen.
            coordination::ClusterProbe unanswered;
            unanswered.index = it->first;
            results.emplace_back(unanswered, slot.sent_at);
        }
        const bool gone = !members.count(it->first) && !slot.in_flight;
        it = gone ? probes_.erase(it) : std::next(it);
    }
    return results;
}

void CoordinatorLoop::record_probe(coordination::ClusterProbe probe) {
    {
        std::lock_guard<std::mutex> lock(probes_mutex_);
        ProbeSlot& slot = probes_[probe.index];
        slot.in_flight = false;
        slot.answer = std::move(probe);
    }
    probe_answered_.notify_all();
}

void CoordinatorLoop::perform(const coordination::Decisions& decisions, Millis now) {
    if (decisions.empty()) return;
    if (decisions.elected) {
        const auto& record = *decisions.elected;
        metrics_.add("elections_total", label("reason", coordination::to_string(record.reason)));
        spdlog::warn("elected cluster {} as Redis-leader at term {} ({}, {} ms)", record.state.leader,
                     record.state.term, coordination::to_string(record.reason), record.ended_at - record.started_at);
    }
    for (const auto& order : decisions.redis) prober_.replica_of(order.index, order.master);
    // A new term goes out at once, before the announcements: forwarders stamp it, with each
    // slave's lease on it, and a slave that has not had the announcement yet adopts both from the
    // request itself. Right after an election `followers` is 0: /lb/status claims nothing untold.
    if (decisions.elected) publish(now);
    for (int index : decisions.admit) spdlog::info("cluster {} receives requests", index);
    for (int index : decisions.eject) spdlog::warn("cluster {} ejected from forwarding", index);
    for (int index : decisions.drained) spdlog::info("cluster {} drained: safe to remove", index);
    if (decisions.announce) {
        // Sent by the workers and waited for at most one probe interval, so that /lb/status says
        // what the slaves were told (`followers`: a slave told 0 skips WAIT and its writes are
        // `degraded`) yet one slave that does not answer cannot hold this loop for the HTTP timeout,
        // and with it the probe rounds, the leases they renew and the failure detection. A refusal
        // (the slave follows a newer term: this LB restarted) comes back as a report.
        struct Unanswered {
            std::mutex mutex;
            std::condition_variable answered;
            std::size_t left = 0;
        };
        auto unanswered = std::make_shared<Unanswered>();
        const auto announcement = *decisions.announce;
        unanswered->left = announcement.to.size();
        for (int index : announcement.to) {
            // A new leader's slaves get their lease with the announcement, not a round later.
            auto grant = coordinator_.grant_lease(index, now);
            auto address = slave_address(index);
            const bool queued = workers_.submit([this, index, address, announcement, grant, unanswered] {
                if (auto refusal = prober_.announce(index, address, announcement, grant)) {
                    reports_.push(SlaveStateReport{index, *refusal});
                }
                std::lock_guard<std::mutex> lock(unanswered->mutex);
                if (--unanswered->left == 0) unanswered->answered.notify_all();
            });
            if (!queued) {
                std::lock_guard<std::mutex> lock(unanswered->mutex);
                --unanswered->left;
            }
        }
        std::unique_lock<std::mutex> lock(unanswered->mutex);
        unanswered->answered.wait_for(lock, std::chrono::milliseconds(config_.election.probe_interval_ms),
                                      [&] { return unanswered->left == 0; });
    }
    publish(now);
}

std::optional<SocketAddress> CoordinatorLoop::slave_address(int index) const {
    auto found = slave_addresses_.find(index);
    return found == slave_addresses_.end() ? std::nullopt : std::optional<SocketAddress>(found->second);
}

void CoordinatorLoop::publish(Millis now) {
    coordination::Status status = coordinator_.status();
    const std::string proof =
        status.state.term > 0 ? protocol::leader_grant_proof(key_, status.state.term, status.state.leader) : "";
    RoutingView view{status.state, proof, status.ready, slave_addresses_, {}};
    for (int index : view.ready) {
        if (auto grant = coordinator_.grant_lease(index, now)) {
            view.lease_grant_lines[index] = lease_grant_line(key_, *grant);
        }
    }
    board_.publish(std::move(view));

    std::map<std::string, std::uint64_t> up;
    for (const auto& [index, cluster] : status.clusters) up[label("cluster", std::to_string(index))] = cluster.admitted;
    metrics_.replace_all("cluster_up", std::move(up));

    auto snapshot = std::make_shared<const CoordinatorSnapshot>(CoordinatorSnapshot{std::move(status), now});
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    snapshot_ = std::move(snapshot);
}

std::shared_ptr<const CoordinatorSnapshot> CoordinatorLoop::snapshot() const {
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    return snapshot_;
}

}  // namespace cdb::lb
