#pragma once
// Sends a client's data request to a ready slave, round-robin, with the LB's (term, leader)
// attached, and answers the client when a slave has answered (forward_rules.h says when to try
// the next slave). A read has a try deadline of its own; a slave that misses it is skipped by new
// requests until it answers again (outlier_guard.h). No thread waits: the request travels on an upstream loop, and the answer is sent
// from there. What the attempts reveal about slaves goes to the coordinator loop.
#include <atomic>
#include <memory>

#include "cdb/cluster_addresses.h"
#include "cdb/control_key.h"
#include "cdb/metrics.h"
#include "cdb/route_table.h"
#include "outlier_guard.h"
#include "report_queue.h"
#include "routing_board.h"
#include "upstream_loop.h"

namespace cdb::lb {

class Forwarder {
public:
    Forwarder(UpstreamClient& upstreams, const ClusterAddresses& addresses, const RoutingBoard& board,
              ReportQueue& reports, Metrics& metrics, const ControlKey& key, int max_attempts,
              std::chrono::milliseconds read_try_timeout);
    void add_routes(RouteTable& routes);

private:
    struct Exchange;
    void forward(const HttpRequest& request, const char* route, Reply reply);
    void attempt(std::shared_ptr<Exchange> exchange);
    // The next ready slave this exchange has not tried, preferring one the guard admits.
    int next_slave(Exchange& exchange);
    // Judges an attempt; true when the client has been answered, false to try the next slave.
    bool conclude(Exchange& exchange, UpstreamOutcome outcome, int slave);
    void restamp(Exchange& exchange);
    void answer(Exchange& exchange, const HttpResponse& response);

    const int max_attempts_;
    const std::chrono::milliseconds read_try_timeout_;
    OutlierGuard outliers_;
    UpstreamClient& upstreams_;
    const ClusterAddresses& addresses_;
    const RoutingBoard& board_;
    ReportQueue& reports_;
    Metrics& metrics_;
    const ControlKey& key_;
    std::atomic<std::uint64_t> next_{0};
};

}  // namespace cdb::lb
