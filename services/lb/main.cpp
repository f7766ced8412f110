// lb: the single entry point. Forwards the data API to ready slaves and coordinates the
// Redis-leader election (docs/ELECTION.md, docs/PROTOCOL.md).
#include <sched.h>

#include <algorithm>
#include <memory>

#include "cdb/cluster_addresses.h"
#include "cdb/control_key.h"
#include "cdb/http_server.h"
#include "cdb/metrics.h"
#include "cdb/service_main.h"
#include "coordinator_loop.h"
#include "cdb/coordination/timings.h"
#include "forwarder.h"
#include "lb_api.h"
#include "report_queue.h"
#include "routing_board.h"
#include "upstream_loop.h"

namespace {

constexpr std::size_t report_queue_capacity = 4096;
constexpr int max_forward_attempts = 3;

// lb.threads, with 0 (the default) read as one per CPU this process may run on.
int lb_threads(const cdb::DeploymentConfig& config) {
    if (config.lb.threads > 0) return config.lb.threads;
    cpu_set_t allowed;
    if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 1;
    return std::clamp(CPU_COUNT(&allowed), 1, 64);
}

cdb::lb::UpstreamLimits upstream_limits(const cdb::DeploymentConfig& config) {
    cdb::lb::UpstreamLimits limits;
    limits.connect = std::chrono::milliseconds(config.http.upstream_connect_timeout_ms);
    limits.total = std::chrono::milliseconds(config.http.upstream_timeout_ms);
    // A slave answers at most one value, with the same room as a request (server_options).
    limits.max_response_bytes = cdb::server_options(config, config.lb, config.lb.port, "").max_request_bytes + 64 * 1024;
    return limits;
}

struct LbService {
    explicit LbService(const cdb::DeploymentConfig& config)
        : addresses(config),
          control_key(config.control_plane_key),
          metrics("lb"),
          reports(report_queue_capacity),
          upstreams(upstream_limits(config), static_cast<std::size_t>(lb_threads(config))),
          loop(config, addresses, board, reports, metrics, control_key),
          forwarder(upstreams, addresses, board, reports, metrics, control_key, max_forward_attempts,
                    std::chrono::milliseconds(config.http.upstream_try_timeout_ms),
                    std::chrono::milliseconds(cdb::coordination::election_timings(config.election.probe_interval_ms,
                                                                                   config.http.upstream_timeout_ms)
                                                  .lease_gap_hold)),
          api(loop, addresses, config.replication.mode, metrics, config.admin_token, control_key) {
        metrics.sampled("reports_dropped_total", "counter",
                        "Slave reports dropped because the coordinator loop was behind (queue full).",
                        [this] { return static_cast<double>(reports.dropped()); });
        cdb::RouteTable routes;
        forwarder.add_routes(routes);
        api.add_routes(routes);
        cdb::ListenConfig listen = config.lb;
        listen.threads = lb_threads(config);
        auto options = cdb::server_options(config, listen, config.lb.port, "lb-http");
        options.descriptors_per_connection = 2;  // and one to a slave
        server = std::make_unique<cdb::HttpServer>(options, std::move(routes));
    }

    cdb::ClusterAddresses addresses;
    const cdb::ControlKey control_key;
    cdb::Metrics metrics;
    cdb::lb::RoutingBoard board;
    cdb::lb::ReportQueue reports;
    cdb::lb::UpstreamClient upstreams;
    cdb::lb::CoordinatorLoop loop;
    cdb::lb::Forwarder forwarder;
    cdb::lb::LbApi api;
    std::unique_ptr<cdb::HttpServer> server;
};

}  // namespace

int main(int argc, char** argv) {
    cdb::ServiceSpec spec;
    spec.name = "lb";
    spec.user = cdb::ConfigUser::lb;
    spec.usage = "Forwards GET /list-keys, GET /get/{key}, POST /set, DELETE /delete/{key} to ready slaves and\n"
                 "elects the Redis-leader. Own routes: /lb/healthz, /lb/status, /lb/metrics, PUT /lb/size.";
    spec.own_port = [](const cdb::DeploymentConfig& config) { return config.lb.port; };
    spec.start = [](const cdb::DeploymentConfig& config) -> std::function<void()> {
        auto service = std::make_shared<LbService>(config);
        service->loop.start();
        service->server->start();
        return [service] {
            // Calls in flight are answered (503) while the server can still send, then it stops.
            service->upstreams.stop();
            service->server->stop();
            service->loop.stop();
        };
    };
    return cdb::run_service(spec, argc, argv);
}
