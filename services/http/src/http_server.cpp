#include "cdb/http_server.h"

#include <pistache/listener.h>
#include <spdlog/spdlog.h>

#include "acceptor.h"
#include "http_transport.h"
#include "request_pipeline.h"

namespace cdb {

using namespace Pistache;

HttpServerOptions server_options(const DeploymentConfig& config, const ListenConfig& listen, int port,
                                 std::string name) {
    HttpServerOptions options;
    options.bind = listen.bind;
    options.port = port;
    options.threads = listen.threads;
    options.name = std::move(name);
    // Room for a percent-encoded key in the path, and for the headers of any client or proxy.
    options.max_head_bytes = static_cast<std::size_t>(config.limits.max_key_bytes) * 3 + 16 * 1024;
    // Room for the JSON of the largest value even when much of it is escaped.
    options.max_request_bytes = static_cast<std::size_t>(config.limits.max_value_bytes) * 2 +
                                static_cast<std::size_t>(config.limits.max_key_bytes) * 6 + 16 * 1024;
    options.header_timeout = std::chrono::milliseconds(config.http.header_timeout_ms);
    options.body_timeout = std::chrono::milliseconds(config.http.body_timeout_ms);
    options.max_connections = static_cast<std::size_t>(config.http.max_connections);
    return options;
}

HttpResponse metrics_response(const Metrics& metrics) {
    HttpResponse response = json_response(200, metrics.render());
    response.content_type = "text/plain; version=0.0.4";
    return response;
}

HttpServer::HttpServer(HttpServerOptions options, RouteTable routes)
    : options_(std::move(options)), routes_(std::make_shared<RouteTable>(std::move(routes))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
    const Address address(options_.bind, Port(static_cast<uint16_t>(options_.port)));
    listener_ = std::make_unique<Tcp::Listener>(address);
    // NoDelay: an answer's last segment must not wait for the client's acknowledgement of the one
    // before (Nagle), which a client that waits for the whole answer sends only after a delay.
    listener_->init(static_cast<std::size_t>(options_.threads),
                    Flags<Tcp::Options>(Tcp::Options::ReuseAddr) | Tcp::Options::NoDelay,
                    options_.name);
    const std::size_t max_connections = connection_limit(options_);
    auto acceptor = std::make_shared<Acceptor>(max_connections);
    serve_connections(*listener_, RequestPipeline(routes_),
                      {options_.max_head_bytes, options_.max_request_bytes, options_.header_timeout, options_.body_timeout},
                      acceptor);
    try {
        listener_->bind();
        acceptor->start(*listener_);
        stop_accepting_ = [acceptor] { acceptor->stop(); };
        listener_->runThreaded();
        if (max_connections < options_.max_connections) {
            spdlog::warn("{}: at most {} connections, not http.max_connections {}: the descriptor limit allows no "
                         "more (raise `ulimit -n`)", options_.name, max_connections, options_.max_connections);
        }
    } catch (const std::exception& error) {
        listener_.reset();
        throw std::runtime_error("cannot listen on " + options_.bind + ":" + std::to_string(options_.port) + ": " +
                                 error.what());
    }
}

void HttpServer::stop() {
    if (stop_accepting_) {
        stop_accepting_();
        stop_accepting_ = nullptr;
    }
    if (listener_) {
        listener_->shutdown();
        listener_.reset();
    }
}

}  // namespace cdb
