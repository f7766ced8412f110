#include "fault_injector.h"

#include <algorithm>
#include <thread>

namespace cdb::chaos {
namespace {

std::string seconds(std::chrono::milliseconds time) { return std::to_string(time.count() / 1000) + " s"; }

// The faults that freeze or throttle one process alone, and which one.
struct OneProcessFault {
    FaultKind kind;
    bool throttle;  // else SIGSTOP
    Part::Kind part;
    bool of_leader;  // the leader cluster's part, else a follower's (nothing for the LB)
};

constexpr OneProcessFault one_process_faults[] = {
    {FaultKind::pause_leader_redis, false, Part::Kind::redis, true},
    {FaultKind::pause_leader_slave, false, Part::Kind::slave, true},
    {FaultKind::pause_follower_slave, false, Part::Kind::slave, false},
    {FaultKind::pause_follower_redis, false, Part::Kind::redis, false},
    {FaultKind::pause_lb, false, Part::Kind::lb, false},
    {FaultKind::throttle_leader_slave, true, Part::Kind::slave, true},
    {FaultKind::throttle_follower_slave, true, Part::Kind::slave, false},
    {FaultKind::throttle_leader_redis, true, Part::Kind::redis, true},
    {FaultKind::throttle_follower_redis, true, Part::Kind::redis, false},
    {FaultKind::throttle_lb, true, Part::Kind::lb, false},
};

const OneProcessFault* one_process_fault(FaultKind kind) {
    for (const auto& fault : one_process_faults) {
        if (fault.kind == kind) return &fault;
    }
    return nullptr;
}

}  // namespace

const std::vector<FaultKind>& all_fault_kinds() {
    static const std::vector<FaultKind> kinds = [] {
        std::vector<FaultKind> all = default_rotation();
        for (const auto& fault : one_process_faults) {
            if (std::find(all.begin(), all.end(), fault.kind) == all.end()) all.push_back(fault.kind);
        }
        return all;
    }();
    return kinds;
}

const std::vector<FaultKind>& default_rotation() {
    static const std::vector<FaultKind> kinds{
        FaultKind::kill_follower_cluster, FaultKind::kill_leader_redis,  FaultKind::pause_leader_redis,
        FaultKind::pause_leader_cluster,  FaultKind::pause_follower_cluster, FaultKind::restart_lb,
        FaultKind::disconnect_cluster,    FaultKind::pause_leader_slave, FaultKind::pause_follower_redis,
        FaultKind::pause_lb,              FaultKind::throttle_leader_redis, FaultKind::throttle_leader_slave};
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
        case FaultKind::pause_leader_slave: return "pause-leader-slave";
        case FaultKind::pause_follower_slave: return "pause-follower-slave";
        case FaultKind::pause_follower_redis: return "pause-follower-redis";
        case FaultKind::pause_lb: return "pause-lb";
        case FaultKind::throttle_leader_slave: return "throttle-leader-slave";
        case FaultKind::throttle_follower_slave: return "throttle-follower-slave";
        case FaultKind::throttle_leader_redis: return "throttle-leader-redis";
        case FaultKind::throttle_follower_redis: return "throttle-follower-redis";
        case FaultKind::throttle_lb: return "throttle-lb";
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

Error FaultInjector::cannot(FaultKind kind) const {
    const std::string mode = " in " + deployment_.mode() + " mode";
    if (kind == FaultKind::disconnect_cluster && !deployment_.can_disconnect()) return "not possible" + mode;
    const OneProcessFault* one = one_process_fault(kind);
    if (!one) return std::nullopt;
    if (one->throttle) return deployment_.cannot_throttle();
    if (!deployment_.can_pause_part()) return "not possible" + mode;
    return std::nullopt;
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

Error FaultInjector::hold_part(bool throttle, const Part& part, const std::string& role, FaultRecord& record) {
    const std::string outage = seconds(timing_.outage);
    if (throttle) {
        record.description = "throttle " + to_string(part) + role + " to " + std::to_string(throttle_percent) +
                             " % of a core for " + outage;
        return hold_then(deployment_.throttle_part(part, throttle_percent), [this] { return deployment_.unthrottle(); });
    }
    record.description = "pause " + to_string(part) + role + " for " + outage;
    return hold_then(deployment_.pause_part(part), [this] { return deployment_.resume_paused(); });
}

Error FaultInjector::apply(FaultKind kind, int round, const Topology& topology, FaultRecord& record) {
    const int leader = topology.leader;
    const int follower = (leader + 1 + round % (clusters_ - 1)) % clusters_;
    const bool hit_leader = round % 2 == 0;
    const int target = hit_leader ? leader : follower;
    const std::string role = hit_leader ? " (the leader)" : " (a follower)";
    const std::string outage = seconds(timing_.outage);
    if (const OneProcessFault* one = one_process_fault(kind)) {
        if (one->part == Part::Kind::lb) return hold_part(one->throttle, {Part::Kind::lb}, "", record);
        return hold_part(one->throttle, {one->part, one->of_leader ? leader : follower},
                         one->of_leader ? " (the leader)" : " (a follower)", record);
    }
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
        case FaultKind::restart_lb: {
            record.description = "kill -9 the LB, relaunch after " + outage;
            return hold_then(deployment_.kill_lb(), [this] { return deployment_.start_missing(); });
        }
        case FaultKind::disconnect_cluster: {
            record.description = "disconnect cluster " + std::to_string(target) + role + " from its networks for " + outage;
            return hold_then(deployment_.disconnect_cluster(target),
                             [this] { return deployment_.reconnect_disconnected(); });
        }
        default: break;  // the faults of one process, above
    }
    return "unknown fault";
}

}  // namespace cdb::chaos
