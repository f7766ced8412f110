#pragma once
// Sends a client's data request to a ready slave, round-robin, with the LB's (term, leader)
// attached, and answers the client when a slave has answered (forward_rules.h says when to try
// the next slave). A read has a try deadline of its own; a slave that misses it is skipped by new
// requests until it answers again (outlier_guard.h). No thread waits: the request travels on an upstream loop, and the answer is sent
// from there. What the attempts reveal about slaves goes to the coordinator loop.
// A request that every slave it was tried on refused for lack of a lease (nothing sent: the gap
// while a leader moves, between the old leases' end and the new term's first grants) is held, not
// answered, and tried again as soon as the coordinator publishes new grants, for at most the hold
// bound; then it gets the 503 it would have had.
// A request that every slave refused for lack of a lease (nothing sent: the gap while a leader
// moves, between the old leases' end and the new term's first grant) is held, not answered, and
// tried again as soon as the coordinator publishes new grants, for at most the hold bound.
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

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
    // `lease_gap_hold`: how long such a request may wait for new grants (ElectionTimings::lease_gap_hold).
    Forwarder(UpstreamClient& upstreams, const ClusterAddresses& addresses, RoutingBoard& board,
              ReportQueue& reports, Metrics& metrics, const ControlKey& key, int max_attempts,
              std::chrono::milliseconds read_try_timeout, std::chrono::milliseconds lease_gap_hold);
    ~Forwarder();
    Forwarder(const Forwarder&) = delete;
    Forwarder& operator=(const Forwarder&) = delete;
    void add_routes(RouteTable& routes);

private:
    struct Exchange;
    void forward(const HttpRequest& request, const char* route, Reply reply);
    enum class Next { answered, try_next_slave, wait_for_a_lease };
    void attempt(std::shared_ptr<Exchange> exchange);
    // The next ready slave this exchange has not tried, preferring one the guard admits.
    int next_slave(Exchange& exchange);
    // Judges an attempt: the client was answered, or the request goes to the next slave, or waits.
    Next conclude(Exchange& exchange, UpstreamOutcome outcome, int slave);
    void hold(std::shared_ptr<Exchange> exchange);
    // On the coordinator loop's thread, after each publication: the held requests go again, from
    // their first attempt, when new grants came or their hold is over.
    void on_published(const RoutingView& previous, const RoutingView& next);
    void restart(std::shared_ptr<Exchange> exchange);
    void restamp(Exchange& exchange);
    void answer(Exchange& exchange, const HttpResponse& response);

    const int max_attempts_;
    const std::chrono::milliseconds read_try_timeout_;
    const std::chrono::milliseconds lease_gap_hold_;
    OutlierGuard outliers_;
    UpstreamClient& upstreams_;
    const ClusterAddresses& addresses_;
    RoutingBoard& board_;
    ReportQueue& reports_;
    Metrics& metrics_;
    const ControlKey& key_;
    std::atomic<std::uint64_t> next_{0};
    std::mutex held_mutex_;
    std::vector<std::shared_ptr<Exchange>> held_;  // at most max_held_requests
    std::size_t held_bytes_ = 0;                    // their bodies and headers, at most max_held_bytes
};

}  // namespace cdb::lb
