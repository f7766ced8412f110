#pragma once
// The one place that knows Pistache's server API: turns its requests into HttpRequest, dispatches to
// a RouteTable, times requests out, lets services run their own sockets on its threads
// (server_thread.h), and corrects the Pistache 0.0.5 defaults that do not fit a service behind a
// proxy (see docs/PISTACHE.md). The connections are src/http_transport.cpp's, what a request means
// is src/request_pipeline.cpp's.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "cdb/config.h"
#include "cdb/metrics.h"
#include "cdb/route_table.h"

namespace Pistache::Tcp {
class Listener;
}

namespace cdb {

struct HttpServerOptions {
    std::string bind = "0.0.0.0";
    int port = 8080;
    int threads = 4;
    std::size_t max_head_bytes = 16 * 1024;  // request line and headers
    std::size_t max_request_bytes = 64 * 1024;
    std::chrono::milliseconds header_timeout{1000};
    std::chrono::milliseconds body_timeout{5000};
    std::string name = "http";
    // Client connections open at once, lowered to what RLIMIT_NOFILE allows: `reserved_descriptors`
    // for everything else, then `descriptors_per_connection` each (the LB holds one to a slave per
    // client connection in flight).
    std::size_t max_connections = 4096;
    std::size_t reserved_descriptors = 64;
    std::size_t descriptors_per_connection = 1;
};

// Options for a service listening as `listen` on `port`, with the deployment's limits and timeouts.
HttpServerOptions server_options(const DeploymentConfig& config, const ListenConfig& listen, int port,
                                 std::string name);

// GET /metrics: the Prometheus text of `metrics`.
HttpResponse metrics_response(const Metrics& metrics);

class HttpServer {
public:
    HttpServer(HttpServerOptions options, RouteTable routes);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds (throws std::runtime_error naming the address when it cannot) and serves on background threads.
    void start();
    void stop();

private:
    HttpServerOptions options_;
    std::shared_ptr<RouteTable> routes_;
    std::unique_ptr<Pistache::Tcp::Listener> listener_;
    std::function<void()> stop_accepting_;
};

}  // namespace cdb
