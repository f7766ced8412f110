#include "fault_injector.h"

#include <thread>

namespace cdb::chaos {
namespace {

std::string seconds(std::chrono::milliseconds time) { return std::to_string(time.count() / 1000) + " s"; }

}  // namespace

const std::vector<FaultKind>& all_fault_kinds() {
    static const std::vector<FaultKind> kinds{
        FaultKind::kill_follower_cluster, FaultKind::kill_leader_redis,  FaultKind::pause_leader_redis,
        FaultKind::pause_leader_cluster,  FaultKind::pause_follower_cluster, FaultKind::restart_lb,
        FaultKind::disconnect_cluster};
    return kinds;
}

std::string to_string(FaultKind kind) {
    switch (kind) {
        case FaultKind::kill_follower_cluster: return "kill-follower-cluster";
        case FaultKind::kill_leader_redis: return "kill-leader-redis";
        case FaultKind::pause_follower_cluster: return "pause-follower-cluster";
        case FaultKind::pause_leader_cluster: return "pause-leader-cluster";
        case FaultKind::pause_leader_redis: return "pause-leader-redis";
        case FaultKind::restart_lb: return "restart-lb";
        case FaultKind::disconnect_cluster: return "disconnect-cluster";
    }
    return "unknown";
}

std::optional<FaultKind> fault_kind_named(const std::string& name) {
    for (FaultKind kind : all_fault_kinds()) {
        if (to_string(kind) == name) return kind;
    }
    return std::nullopt;
}

FaultInjector::FaultInjector(Deployment& deployment, const LbObserver& lb, int clusters, FaultTiming timing,
                             Clock::time_point epoch)
    : deployment_(deployment), lb_(lb), clusters_(clusters), timing_(timing), epoch_(epoch) {}

bool FaultInjector::can(FaultKind kind) const {
    if (kind == FaultKind::disconnect_cluster) return deployment_.can_disconnect();
    if (kind == FaultKind::pause_leader_redis) return deployment_.can_pause_redis();
    return true;
}

std::vector<FaultKind> FaultInjector::kinds() const {
    std::vector<FaultKind> kinds;
    for (FaultKind kind : all_fault_kinds()) {
        if (can(kind)) kinds.push_back(kind);
    }
    return kinds;
}

Error FaultInjector::hold_then(Error injected, const std::function<Error()>& undo) const {
    if (!injected) std::this_thread::sleep_for(timing_.outage);
    Error undone = undo();  // also after a half-done injection: resume or restart whatever it reached
    return injected ? injected : undone;
}

FaultRecord FaultInjector::inject(FaultKind kind, int round) {
    FaultRecord record;
    auto topology = lb_.topology();
    if (!topology || topology->leader < 0) {
        record.description = "no fault: the LB names no leader";
        record.problem = "the LB at " + deployment_.lb().host + ":" + std::to_string(deployment_.lb().port) +
                         " names no leader before the fault";
        return record;
    }
    record.injected = since(epoch_);
    record.problem = apply(kind, round, *topology, record);
    record.undone = since(epoch_);
    if (record.problem) return record;
    if (Error unsettled = lb_.wait_settled(clusters_, timing_.recovery)) {
        record.problem = "the system did not settle within " + seconds(timing_.recovery) + " after: " +
                         record.description + "; " + *unsettled;
    } else {
        record.settled = since(epoch_);
    }
    return record;
}

Error FaultInjector::apply(FaultKind kind, int round, const Topology& topology, FaultRecord& record) {
    const int leader = topology.leader;
    const int follower = (leader + 1 + round % (clusters_ - 1)) % clusters_;
    const bool hit_leader = round % 2 == 0;
    const int target = hit_leader ? leader : follower;
    const std::string role = hit_leader ? " (the leader)" : " (a follower)";
    const std::string outage = seconds(timing_.outage);
    switch (kind) {
        case FaultKind::kill_follower_cluster: {
            record.description = "kill -9 follower cluster " + std::to_string(follower) + ", restart after " + outage;
            return hold_then(deployment_.kill_cluster(follower), [this] { return deployment_.start_missing(); });
        }
        case FaultKind::kill_leader_redis: {
            record.description = "kill -9 the leader's Redis (cluster " + std::to_string(leader) +
                                 "), restart it once another leads";
            const auto killed = Clock::now();
            if (Error error = deployment_.kill_redis(leader)) return error;
            auto elected = lb_.wait_new_leader(leader, timing_.election);
            if (!elected) return "no new leader within " + seconds(timing_.election) + " after the leader's Redis died";
            record.note = "cluster " + std::to_string(*elected) + " leads after " +
                          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed)
                                             .count()) +
                          " ms";
            return deployment_.start_missing();
        }
        case FaultKind::pause_follower_cluster: {
            record.description = "pause cluster " + std::to_string(follower) + " (a follower) for " + outage;
            return hold_then(deployment_.pause_cluster(follower), [this] { return deployment_.resume_paused(); });
        }
        case FaultKind::pause_leader_cluster: {
            record.description = "pause cluster " + std::to_string(leader) + " (the leader) for " + outage;
            return hold_then(deployment_.pause_cluster(leader), [this] { return deployment_.resume_paused(); });
        }
        case FaultKind::pause_leader_redis: {
            record.description = "pause the leader's Redis (cluster " + std::to_string(leader) + ") for " + outage;
            return hold_then(deployment_.pause_redis(leader), [this] { return deployment_.resume_paused(); });
        }
        case FaultKind::restart_lb: {
            record.description = "kill -9 the LB, relaunch after " + outage;
            return hold_then(deployment_.kill_lb(), [this] { return deployment_.start_missing(); });
        }
        case FaultKind::disconnect_cluster: {
            record.description = "disconnect cluster " + std::to_string(target) + role + " from its networks for " + outage;
            return hold_then(deployment_.disconnect_cluster(target),
                             [this] { return deployment_.reconnect_disconnected(); });
        }
    }
    return "unknown fault";
}

}  // namespace cdb::chaos
