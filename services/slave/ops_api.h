#pragma once
// Probes, status, metrics and the LB's leader announcements (docs/PROTOCOL.md).
#include <chrono>
#include <mutex>
#include <optional>

#include "cdb/cluster_addresses.h"
#include "cdb/config.h"
#include "cdb/metrics.h"
#include "cdb/route_table.h"
#include "drain.h"
#include "leader_link.h"
#include "readiness.h"
#include "redis_pool.h"

namespace cdb::slave {

class OpsApi {
public:
    // Once `drain` has begun, /readyz fails and /status gives the LB the "stopping" answer, so the
    // LB keeps this slave out of forwarding while it drains (a passing probe would re-admit it just
    // before it closes its sockets).
    OpsApi(const DeploymentConfig& config, const ClusterAddresses& addresses, LeaderLink& leader, Drain& drain,
           Metrics& metrics);
    void add_routes(RouteTable& routes);

private:
    HttpResponse ready();
    Readiness readiness(const AnnouncedLeader& state);
    HttpResponse status(const HttpRequest& request);
    HttpResponse announce(const HttpRequest& request);
    // This cluster's Redis's INFO replication; nullopt with `problem` set when it does not answer.
    std::optional<ReplicationInfo> own_replication(std::string& problem);

    const int index_;
    const ReplicationMode mode_;
    LeaderLink& leader_;
    Metrics& metrics_;
    Drain& drain_;
    RedisPool own_redis_;
    const ClusterAddresses& addresses_;
    // The last readiness verdict: probes within readiness_cache_ttl under the same leader share it,
    // and a probe that comes while another judges gets it too rather than waiting (see ready()).
    struct LastReadiness {
        std::int64_t term = 0;
        int leader = -1;
        std::chrono::steady_clock::time_point judged;
        Readiness verdict;
    };
    std::mutex judging_;
    std::mutex last_mutex_;
    std::optional<LastReadiness> last_readiness_;
};

}  // namespace cdb::slave
