#pragma once
// Sends a client's data request to a ready slave, round-robin, with the LB's (term, leader)
// attached. A request that certainly did not reach a slave is tried on the next one; so is a read
// whose slave did not answer. A write whose outcome is unknown is never repeated: the client is
// told so. What the attempts reveal about slaves goes to the coordinator loop.
#include <atomic>

#include "cdb/metrics.h"
#include "cdb/route_table.h"
#include "report_queue.h"
#include "routing_board.h"
#include "upstream_pool.h"

namespace cdb::lb {

class Forwarder {
public:
    Forwarder(UpstreamPool& upstreams, const RoutingBoard& board, ReportQueue& reports, Metrics& metrics,
              int max_attempts);
    void add_routes(RouteTable& routes);
    HttpResponse forward(const HttpRequest& request);

private:
    const int max_attempts_;
    UpstreamPool& upstreams_;
    const RoutingBoard& board_;
    ReportQueue& reports_;
    Metrics& metrics_;
    std::atomic<std::uint64_t> next_{0};
};

}  // namespace cdb::lb
