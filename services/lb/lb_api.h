#pragma once
// The LB's own routes: /lb/healthz, /lb/status, /lb/metrics, the topology page /lb/ui and PUT
// /lb/size (rescale). What changes state needs the admin token; what only reads is open to whoever
// reaches the LB (docs/SECURITY.md).
#include <string>

#include "cdb/cluster_addresses.h"
#include "cdb/config.h"
#include "cdb/metrics.h"
#include "cdb/route_table.h"
#include "coordinator_loop.h"
#include "leave_guard.h"

namespace cdb::lb {

class LbApi {
public:
    LbApi(CoordinatorLoop& loop, const ClusterAddresses& addresses, ReplicationMode mode, Metrics& metrics,
          std::string admin_token, const ControlKey& key);
    void add_routes(RouteTable& routes);

private:
    std::string status_body() const;
    HttpResponse resize(const HttpRequest& request);
    // PUT /lb/leave (docs/PROTOCOL.md §10): a stopping slave's request, proven with the control key.
    HttpResponse leave(const HttpRequest& request);
    // A 401 or 403 when the request does not carry `Authorization: Bearer <admin token>`.
    std::optional<HttpResponse> refuse_unauthorized(const HttpRequest& request);

    CoordinatorLoop& loop_;
    const ClusterAddresses& addresses_;
    const ReplicationMode mode_;
    Metrics& metrics_;
    const std::string admin_token_;
    const ControlKey& key_;
    LeaveGuard leave_guard_;
};

}  // namespace cdb::lb
