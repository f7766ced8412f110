#pragma once
#include <atomic>

// Probes, status, metrics and the LB's leader announcements (docs/PROTOCOL.md).
#include "cdb/cluster_addresses.h"
#include "cdb/config.h"
#include "cdb/metrics.h"
#include "cdb/redis_pool.h"
#include "cdb/route_table.h"
#include "leader_link.h"

namespace cdb::slave {

class OpsApi {
public:
    OpsApi(const DeploymentConfig& config, const ClusterAddresses& addresses, LeaderLink& leader, Metrics& metrics);
    void add_routes(RouteTable& routes);
    // From now on /status and /readyz fail, so the LB keeps this slave out of forwarding while it
    // drains (a passing probe would re-admit it just before it closes its sockets).
    void stop_reporting_ready() { stopping_ = true; }

private:
    HttpResponse ready();
    HttpResponse status();
    HttpResponse announce(const HttpRequest& request);
    std::string own_redis_json();

    const int index_;
    const ReplicationMode mode_;
    const Endpoint own_redis_address_;
    LeaderLink& leader_;
    Metrics& metrics_;
    RedisPool own_redis_;
    std::atomic<bool> stopping_{false};
};

}  // namespace cdb::slave
