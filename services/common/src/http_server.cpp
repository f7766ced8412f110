#include "cdb/http_server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include <sys/socket.h>

#include "cdb/json_builder.h"
#include "cdb/text_rules.h"

namespace cdb {
namespace {

using namespace Pistache;

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return text;
}

HttpRequest convert(const Http::Request& request) {
    HttpRequest converted;
    converted.method = Http::methodString(request.method());
    converted.path = request.resource();
    // Pistache splits the query but leaves each part percent-encoded.
    for (auto it = request.query().parameters_begin(); it != request.query().parameters_end(); ++it) {
        converted.raw_query += (converted.raw_query.empty() ? "" : "&") + it->first + "=" + it->second;
        auto name = query_decode(it->first);
        auto value = query_decode(it->second);
        if (!name || !value) {
            converted.malformed = "query parameter " + to_valid_utf8(it->first) + " is not correctly URL-encoded";
            continue;
        }
        converted.query[*name] = *value;
    }
    // Pistache 0.0.5 keeps a raw copy of every header, the typed ones included.
    for (const auto& [name, raw] : request.headers().rawList()) {
        converted.headers[lower(name)] = raw.value();
    }
    converted.body = request.body();
    return converted;
}

// Pistache 0.0.5 answers "Connection: Close" to an HTTP/1.1 request without a Connection header,
// which makes every client and the LB reconnect per request. HTTP/1.1 means keep-alive by default.
bool client_wants_keep_alive(const Http::Request& request) {
    auto connection = request.headers().tryGet<Http::Header::Connection>();
    if (connection) return connection->control() == Http::ConnectionControl::KeepAlive;
    return request.version() == Http::Version::Http11;
}

// Pistache 0.0.5 writes "Connection: close" but keeps the connection open; shutting the socket down
// makes its reactor see the end and release the peer.
void close_after_send(Async::Promise<ssize_t> sent, const std::shared_ptr<Tcp::Peer>& peer) {
    sent.then([peer](ssize_t) { ::shutdown(peer->fd(), SHUT_RDWR); },
              [peer](std::exception_ptr) { ::shutdown(peer->fd(), SHUT_RDWR); });
}

// Pistache 0.0.5 writes only typed headers into responses and silently drops raw ones, so each of
// our headers travels as a typed header with a name chosen at run time.
class NamedHeader : public Http::Header::Header {
public:
    NamedHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
    const char* name() const override { return name_.c_str(); }
    void write(std::ostream& stream) const override { stream << value_; }
#ifdef SAFE_HEADER_CAST
    uint64_t hash() const override { return std::hash<std::string>{}(name_); }
#endif

private:
    std::string name_;
    std::string value_;
};

class RoutingHandler : public Http::Handler {
public:
    HTTP_PROTOTYPE(RoutingHandler)

    explicit RoutingHandler(std::shared_ptr<RouteTable> routes = nullptr) : routes_(std::move(routes)) {}

    void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
        HttpResponse response;
        try {
            response = routes_->dispatch(convert(request));
        } catch (const std::exception& error) {
            spdlog::error("{} {} failed: {}", Http::methodString(request.method()), to_valid_utf8(request.resource()),
                          error.what());
            response = error_response(500, std::string("internal error: ") + error.what());
        }
        spdlog::debug("{} {} -> {}", Http::methodString(request.method()), to_valid_utf8(request.resource()),
                      response.status);
        send(request, writer, response);
        // Pistache queues the answer under the connection's descriptor number and writes it on a
        // later turn of its loop. If the client hung up meanwhile (an LB attempt that timed out),
        // the loop closes that descriptor first, a new connection may get the same number, and the
        // answer would go to it. Writing now, from the loop thread that runs this handler and so
        // has not closed this connection yet, leaves no such window (PistacheAnswerNeverReachesAnotherConnection).
        transport()->flush();
    }

private:
    static void send(const Http::Request& request, Http::ResponseWriter& writer, const HttpResponse& response) {
        const bool keep_alive = client_wants_keep_alive(request) && !response.close_connection;
        writer.headers().remove<Http::Header::Connection>();
        writer.headers().add<Http::Header::Connection>(keep_alive ? Http::ConnectionControl::KeepAlive
                                                                  : Http::ConnectionControl::Close);
        for (const auto& [name, value] : response.headers) {
            writer.headers().add(std::make_shared<NamedHeader>(name, value));
        }
        auto peer = writer.peer();
        auto sent = writer.send(static_cast<Http::Code>(response.status), response.body,
                                Http::Mime::MediaType::fromString(response.content_type));
        if (!keep_alive && peer) close_after_send(std::move(sent), peer);
    }

    std::shared_ptr<RouteTable> routes_;
};

}  // namespace

HttpServerOptions server_options(const DeploymentConfig& config, const ListenConfig& listen, int port,
                                 std::string name) {
    HttpServerOptions options;
    options.bind = listen.bind;
    options.port = port;
    options.threads = listen.threads;
    options.name = std::move(name);
    // Room for the JSON of the largest value even when much of it is escaped.
    options.max_request_bytes = static_cast<std::size_t>(config.limits.max_value_bytes) * 2 +
                                static_cast<std::size_t>(config.limits.max_key_bytes) * 6 + 16 * 1024;
    options.header_timeout = std::chrono::milliseconds(config.http.header_timeout_ms);
    options.body_timeout = std::chrono::milliseconds(config.http.body_timeout_ms);
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
    endpoint_ = std::make_unique<Http::Endpoint>(address);
    auto opts = Http::Endpoint::options()
                    .threads(options_.threads)
                    .threadsName(options_.name)
                    .flags(Tcp::Options::ReuseAddr)
                    .maxRequestSize(options_.max_request_bytes)
                    .maxResponseSize(options_.max_request_bytes + 64 * 1024)
                    .headerTimeout(options_.header_timeout)
                    .bodyTimeout(options_.body_timeout);
    endpoint_->init(opts);
    endpoint_->setHandler(std::make_shared<RoutingHandler>(routes_));
    try {
        endpoint_->serveThreaded();
    } catch (const std::exception& error) {
        endpoint_.reset();
        throw std::runtime_error("cannot listen on " + options_.bind + ":" + std::to_string(options_.port) + ": " +
                                 error.what());
    }
}

void HttpServer::stop() {
    if (endpoint_) {
        endpoint_->shutdown();
        endpoint_.reset();
    }
}

}  // namespace cdb
