#pragma once
// The LB's own routes: /lb/healthz, /lb/status, /lb/metrics and PUT /lb/size (rescale).
#include "cdb/metrics.h"
#include "cdb/route_table.h"
#include "coordinator_loop.h"

namespace cdb::lb {

class LbApi {
public:
    LbApi(CoordinatorLoop& loop, Metrics& metrics) : loop_(loop), metrics_(metrics) {}
    void add_routes(RouteTable& routes);

private:
    HttpResponse resize(const HttpRequest& request);

    CoordinatorLoop& loop_;
    Metrics& metrics_;
};

}  // namespace cdb::lb
