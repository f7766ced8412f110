#pragma once
// One fault at a time: pick its target from the LB's topology, inject it, undo it after the outage
// (restart, resume, reconnect), then wait until the system has settled again.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "deployment.h"
#include "lb_observer.h"

namespace cdb::chaos {

enum class FaultKind {
    kill_follower_cluster,
    kill_leader_redis,
    pause_follower_cluster,
    pause_leader_cluster,  // its slave and its Redis
    pause_leader_redis,    // its Redis alone: the slave still answers the LB
    restart_lb,
    disconnect_cluster,
    // The gray-failure set (issue 20): one process frozen, or held to 5 % of one core, while the
    // others run. A cluster's slave and Redis are hit apart.
    pause_leader_slave,
    pause_follower_slave,
    pause_follower_redis,
    pause_lb,
    throttle_leader_slave,
    throttle_follower_slave,
    throttle_leader_redis,
    throttle_follower_redis,
    throttle_lb,
};

// The name of a kind on the command line (--faults), e.g. "pause-leader-redis".
std::string to_string(FaultKind kind);
std::optional<FaultKind> fault_kind_named(const std::string& name);
const std::vector<FaultKind>& all_fault_kinds();
// The kinds `make chaos` injects in turn when --faults names none, in that order (docs/CHAOS.md
// says which are left out and why).
const std::vector<FaultKind>& default_rotation();

struct FaultTiming {
    std::chrono::milliseconds outage{3000};    // how long a killed part stays down, a cluster frozen or cut off
    std::chrono::milliseconds election{10000}; // longest wait for a new leader once the leader's Redis is dead
    std::chrono::milliseconds recovery{60000}; // longest wait for the system to settle after the fault
};

struct FaultRecord {
    std::string description;
    Micros injected = 0;
    Micros undone = 0;    // restarted, resumed or reconnected
    Micros settled = -1;  // -1: it did not settle
    std::string note;
    Error problem;
};

class FaultInjector {
public:
    FaultInjector(Deployment& deployment, const LbObserver& lb, int clusters, FaultTiming timing,
                  Clock::time_point epoch);

    // Why the deployment cannot inject `kind` (another mode, no cgroup cpu controller), or nullopt.
    Error cannot(FaultKind kind) const;
    // `round` varies the target: a disconnection hits the leader in even rounds, a follower in odd
    // ones; a killed or paused follower is a different one each round.
    FaultRecord inject(FaultKind kind, int round);

private:
    Error apply(FaultKind kind, int round, const Topology& topology, FaultRecord& record);
    // Keeps an injected fault in place for the outage, then undoes it.
    Error hold_then(Error injected, const std::function<Error()>& undo) const;
    // pause-* and throttle-* of one process: freeze it (SIGSTOP) or throttle it for the outage.
    Error hold_part(bool throttle, const Part& part, const std::string& role, FaultRecord& record);

    Deployment& deployment_;
    const LbObserver& lb_;
    const int clusters_;
    const FaultTiming timing_;
    const Clock::time_point epoch_;
};

}  // namespace cdb::chaos
