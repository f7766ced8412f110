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

coordination::ElectionTimings timings_of(const DeploymentConfig& config) {
    return coordination::election_timings(config.election.probe_interval_ms, config.http.upstream_timeout_ms);
}

coordination::Config coordination_config(const DeploymentConfig& config) {
    const coordination::ElectionTimings timings = timings_of(config);
    coordination::Config converted;
    switch (config.replication.mode) {
        case ReplicationMode::none: converted.mode = coordination::ReplicationMode::none; break;
        case ReplicationMode::async: converted.mode = coordination::ReplicationMode::async; break;
        case ReplicationMode::sync: converted.mode = coordination::ReplicationMode::sync; break;
    }
    converted.failure_threshold = config.election.failure_threshold;
    converted.recovery_window_ms = timings.recovery_window;
    converted.lease_ms = timings.lease;
    converted.leave_gathering_ms = timings.leave_gathering;
    converted.size = config.cluster.size;
    // With one host for every cluster (local runs) only the desired size says which exist.
    converted.names_per_cluster = config.cluster.host_template.find("{i}") != std::string::npos;
    return converted;
}

}  // namespace

CoordinatorLoop::CoordinatorLoop(const DeploymentConfig& config, const ClusterAddresses& addresses,
                                 RoutingBoard& board, ReportQueue& reports, Metrics& metrics, const ControlKey& key)
    : timings_(timings_of(config)),
      addresses_(addresses),
      board_(board),
      reports_(reports),
      metrics_(metrics),
      key_(key),
      coordinator_(coordination_config(config)),
      prober_(config, addresses, key, metrics),
      resolver_(std::chrono::milliseconds(timings_.name_lookup_timeout)),
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
    const Millis interval = timings_.probe_period;
    while (!stopping_) {
        // One publication per batch: a burst of reports must not rebuild the status thousands of times.
        for (const Report& report : reports_.take_until(epoch_ + std::chrono::milliseconds(next_wake()))) {
            handle(report, now());
        }
        if (stopping_) break;
        if (const int size = requested_size_.exchange(0)) {
            perform(coordinator_.on_size_requested(size, now()), now());
            membership_refreshed_at_ = -1;  // looked up again at once
        }
        take_probe_answers(now());
        // Time passes: the recovery window, a pending election, re-announcements. An election that
        // waits for the old leader's leases to end is held as soon as they have.
        const auto leases_end = coordinator_.wake_at();
        if (now() >= next_tick_ || (leases_end && now() >= *leases_end)) {
            perform(coordinator_.on_tick(now()), now());
            if (now() >= next_tick_) next_tick_ = now() + interval;
        }
        if (membership_refreshed_at_ < 0 || now() - membership_refreshed_at_ >= membership_refresh_ms) {
            refresh_membership(now());
            membership_refreshed_at_ = now();
        }
        send_due_probes(now());
        publish(now());
    }
}

coordination::Millis CoordinatorLoop::next_wake() const {
    const Millis interval = timings_.probe_period;
    Millis wake = next_tick_;
    if (const auto leases_end = coordinator_.wake_at()) wake = std::min(wake, *leases_end);
    if (membership_refreshed_at_ >= 0) wake = std::min(wake, membership_refreshed_at_ + membership_refresh_ms);
    const int leader = coordinator_.leader_state().leader;
    const auto members = coordinator_.status().clusters;
    std::lock_guard<std::mutex> lock(probes_mutex_);
    for (const auto& [index, cluster] : members) {
        for (const ProbePart part : {ProbePart::slave, ProbePart::redis}) {
            const auto found = probes_.find({index, part});
            if (found == probes_.end() || found->second.answer) return now();  // never probed, or answered
            const ProbeSlot& slot = found->second;
            if (!slot.in_flight) {
                wake = std::min(wake, slot.sent_at + interval);
            } else if (part == ProbePart::redis && index == leader) {
                wake = std::min(wake, slot.silent_until);
            }
        }
    }
    return wake;
}

void CoordinatorLoop::take_probe_answers(Millis now) {
    const Millis interval = timings_.probe_period;
    const int leader = coordinator_.leader_state().leader;
    std::vector<std::pair<ProbeAnswer, Millis>> answers;
    {
        std::lock_guard<std::mutex> lock(probes_mutex_);
        for (auto& [key, slot] : probes_) {
            if (slot.answer) {
                answers.emplace_back(std::move(*slot.answer), slot.sent_at);
                slot.answer.reset();
            } else if (slot.in_flight && key.second == ProbePart::redis && key.first == leader &&
                       now >= slot.silent_until) {
                answers.emplace_back(coordination::RedisProbe{key.first, std::nullopt}, slot.sent_at);
                slot.silent_until = now + interval;
            }
        }
    }
    for (const auto& [answer, sent_at] : answers) {
        if (const auto* slave = std::get_if<coordination::SlaveProbe>(&answer)) {
            perform(coordinator_.on_slave_probe(*slave, sent_at, now), now);
        } else {
            perform(coordinator_.on_redis_probe(std::get<coordination::RedisProbe>(answer), sent_at, now), now);
        }
    }
}

void CoordinatorLoop::send_due_probes(Millis now) {
    const Millis interval = timings_.probe_period;
    const auto members = coordinator_.status().clusters;
    std::lock_guard<std::mutex> lock(probes_mutex_);
    for (auto it = probes_.begin(); it != probes_.end();) {  // only members are probed
        const bool gone = !members.count(it->first.first) && !it->second.in_flight;
        it = gone ? probes_.erase(it) : std::next(it);
    }
    for (const auto& member : members) {
        const int index = member.first;
        for (const ProbePart part : {ProbePart::slave, ProbePart::redis}) {
            const auto [found, fresh] = probes_.try_emplace({index, part});
            ProbeSlot& slot = found->second;
            if (slot.in_flight || slot.answer || (!fresh && now < slot.sent_at + interval)) continue;
            slot = ProbeSlot{true, now, now + interval, std::nullopt};
            std::function<void()> job;
            if (part == ProbePart::slave) {
                // Granted here, on the coordinator's thread, before it is sent: from now on the
                // coordinator promotes no new leader before this lease has ended.
                auto grant = coordinator_.grant_lease(index, now);
                job = [this, index, address = slave_address(index), grant] {
                    record_probe(index, ProbePart::slave, prober_.probe_slave(index, address, grant));
                };
            } else {
                job = [this, index] { record_probe(index, ProbePart::redis, prober_.probe_redis(index)); };
            }
            if (!workers_.submit(std::move(job))) slot.in_flight = false;  // nothing was sent: tried again next interval
        }
    }
}

void CoordinatorLoop::record_probe(int index, ProbePart part, ProbeAnswer answer) {
    {
        std::lock_guard<std::mutex> lock(probes_mutex_);
        ProbeSlot& slot = probes_[{index, part}];
        slot.in_flight = false;
        slot.answer = std::move(answer);
    }
    reports_.wake();
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

void CoordinatorLoop::perform(const coordination::Decisions& decisions, Millis now) {
    if (decisions.empty()) return;
    if (decisions.elected) {
        const auto& record = *decisions.elected;
        metrics_.add("elections_total", label("reason", coordination::to_string(record.reason)));
        spdlog::warn("elected cluster {} as Redis-leader at term {} ({}, {} ms)", record.state.leader,
                     record.state.term, coordination::to_string(record.reason), record.ended_at - record.started_at);
    }
    for (const auto& order : decisions.redis) {
        // The leader's promotion is carried out before anything else: followers must find a master,
        // and slaves must find it writable. A follower's order goes to the workers: a frozen Redis
        // must not hold the loop for its command timeout. One that fails is seen on its next probe,
        // and given again.
        if (order.index == coordinator_.leader_state().leader) {
            prober_.replica_of(order.index, order.master);
        } else {
            workers_.submit([this, order] { prober_.replica_of(order.index, order.master); });
        }
    }
    // A new term goes out at once, before the announcements: forwarders stamp it, with each
    // slave's lease on it, and a slave that has not had the announcement yet adopts both from the
    // request itself. Right after an election `followers` is 0: /lb/status claims nothing untold.
    if (decisions.elected) publish(now);
    for (int index : decisions.admit) spdlog::info("cluster {} receives requests", index);
    for (int index : decisions.eject) spdlog::warn("cluster {} ejected from forwarding", index);
    for (int index : decisions.drained) spdlog::info("cluster {} drained: safe to remove", index);
    if (decisions.announce) announce(*decisions.announce, now);
    publish(now);
}

// Sent by the workers; the loop does not wait: one slave that does not answer must not hold the
// probes' answers, and the leases that ride on them, for its HTTP timeout. A refusal (the slave
// follows a newer term: this LB restarted) comes back as a report.
void CoordinatorLoop::announce(const coordination::Announcement& announcement, Millis now) {
    auto delivery = std::make_shared<Delivery>();
    delivery->told = Told{++announcements_, announcement.state, announcement.followers};
    delivery->left = announcement.to.size();
    for (int index : announcement.to) {
        // A new leader's slaves get their lease with the announcement, not a probe later.
        auto grant = coordinator_.grant_lease(index, now);
        auto address = slave_address(index);
        const bool queued = workers_.submit([this, index, address, announcement, grant, delivery] {
            if (auto refusal = prober_.announce(index, address, announcement, grant)) {
                reports_.push(SlaveStateReport{index, *refusal});
            }
            delivered(*delivery);
        });
        if (!queued) delivered(*delivery);
    }
}

void CoordinatorLoop::delivered(Delivery& delivery) {
    if (--delivery.left > 0) return;
    {
        std::lock_guard<std::mutex> lock(told_mutex_);
        if (delivery.told.sequence > told_.sequence) told_ = delivery.told;
    }
    reports_.wake();  // /lb/status may now say it
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

    {
        // /lb/status claims no follower count the slaves were not told: a slave told 0 skips WAIT
        // and its writes are `degraded` (a client that waits for `followers` before writing relies on it).
        std::lock_guard<std::mutex> lock(told_mutex_);
        status.followers = told_.state == status.state ? std::min(status.followers, told_.followers) : 0;
    }
    auto snapshot = std::make_shared<const CoordinatorSnapshot>(CoordinatorSnapshot{std::move(status), now});
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    snapshot_ = std::move(snapshot);
}

std::shared_ptr<const CoordinatorSnapshot> CoordinatorLoop::snapshot() const {
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    return snapshot_;
}

}  // namespace cdb::lb
