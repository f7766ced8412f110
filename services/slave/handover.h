#pragma once
// How a slave that is told to stop hands its cluster's leadership over before its Redis goes
// (docs/PROTOCOL.md §10). It asks the LB to take the cluster out (PUT /lb/leave, proven with the
// control-plane key), and asks again until the LB answers that the cluster leads nothing and gets no
// request, or until the bound passes. Meanwhile /internal/handover answers 503, then 200: the Redis
// container's preStop (Kubernetes) waits for that, so that Redis outlives the hand-over.
#include <atomic>
#include <chrono>

#include "cdb/config.h"
#include "cdb/control_key.h"
#include "cdb/route_table.h"

namespace cdb::slave {

class Handover {
public:
    Handover(const DeploymentConfig& config, const ControlKey& key);
    void add_routes(RouteTable& routes);

    // Blocks until the LB has handed the cluster over, refused the request, or `timeout_ms` passed.
    // Returns whether it handed over. Then /internal/handover says 200 either way.
    bool run();

private:
    const int index_;
    const std::string lb_host_;
    const int lb_port_;
    const std::chrono::milliseconds timeout_;
    const ControlKey& key_;
    std::atomic<bool> finished_{false};
    std::int64_t last_sent_at_ms_ = 0;
};

}  // namespace cdb::slave
