#pragma once
// Probes, status, metrics and the LB's leader announcements (docs/PROTOCOL.md).
#include "cdb/config.h"
#include "cdb/metrics.h"
#include "cdb/route_table.h"
#include "drain.h"
#include "leader_link.h"

namespace cdb::slave {

class OpsApi {
public:
    // Once `drain` has begun, /readyz fails and /status gives the LB the "stopping" answer, so the
    // LB keeps this slave out of forwarding while it drains (a passing probe would re-admit it just
    // before it closes its sockets).
    OpsApi(const DeploymentConfig& config, LeaderLink& leader, Drain& drain, Metrics& metrics);
    void add_routes(RouteTable& routes);

private:
    HttpResponse ready();
    HttpResponse status(const HttpRequest& request);
    HttpResponse announce(const HttpRequest& request);

    const int index_;
    const ReplicationMode mode_;
    LeaderLink& leader_;
    Metrics& metrics_;
    Drain& drain_;
};

}  // namespace cdb::slave
