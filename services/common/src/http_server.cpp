#include "cdb/http_server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <thread>
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

// Everything a response needs once the request is gone: a handler may answer from another thread
// after onRequest returned.
//
// Pistache 0.0.5 queues each write under the connection's descriptor number. Written from another
// thread, an answer could reach a stranger: the client hangs up, its connection's thread closes the
// descriptor, a new connection gets the same number, then the write is taken from the queue. So an
// answer given on another thread is first carried to the connection's own thread, by an empty write
// whose completion runs there; that thread alone closes the connection, so there the client's
// presence is certain, and the answer is written at once (Transport::flush).
class PendingResponse : public std::enable_shared_from_this<PendingResponse> {
public:
    PendingResponse(const Http::Request& request, Http::ResponseWriter writer, Tcp::Transport* transport)
        : keep_alive_(client_wants_keep_alive(request)),
          connection_thread_(std::this_thread::get_id()),
          transport_(transport),
          writer_(std::move(writer)) {
        if (spdlog::should_log(spdlog::level::debug)) {
            description_ = Http::methodString(request.method()) + std::string(" ") + to_valid_utf8(request.resource());
        }
    }

    bool keep_alive() const { return keep_alive_; }

    void send(HttpResponse response) {
        if (answered_.exchange(true)) return;
        if (std::this_thread::get_id() == connection_thread_) return write(response);
        carry_to_connection_thread(std::move(response));
    }

private:
    void carry_to_connection_thread(HttpResponse response) {
        std::shared_ptr<Tcp::Peer> peer;
        try {
            peer = writer_.peer();
        } catch (const std::exception&) {
            return gone(response.status);
        }
        const auto carrier = std::this_thread::get_id();
        auto self = shared_from_this();
        // If the empty write completed before `then` was attached, the continuation runs here, on the
        // carrier: carry again. Otherwise it runs on the connection's thread. When the descriptor is no
        // longer a connection of that thread, Pistache drops the write: the client has gone.
        peer->send(RawBuffer("", 0))
            .then(
                [self, response, carrier](ssize_t) {
                    if (std::this_thread::get_id() == carrier) return self->carry_to_connection_thread(response);
                    self->write(response);
                },
                [self, status = response.status](std::exception_ptr) { self->gone(status); });
    }

    void gone(int status) const { spdlog::debug("{} -> {}: the client left before the answer", description_, status); }

    // On the connection's thread.
    void write(const HttpResponse& response) {
        spdlog::debug("{} -> {}", description_, response.status);
        const bool keep_alive = keep_alive_ && !response.close_connection;
        writer_.headers().remove<Http::Header::Connection>();
        writer_.headers().add<Http::Header::Connection>(keep_alive ? Http::ConnectionControl::KeepAlive
                                                                   : Http::ConnectionControl::Close);
        for (const auto& [name, value] : response.headers) {
            writer_.headers().add(std::make_shared<NamedHeader>(name, value));
        }
        try {
            auto peer = writer_.peer();  // throws when the client has gone
            auto sent = writer_.send(static_cast<Http::Code>(response.status), response.body,
                                     Http::Mime::MediaType::fromString(response.content_type));
            if (!keep_alive) close_after_send(std::move(sent), peer);
            transport_->flush();
        } catch (const std::exception&) {
            gone(response.status);
        }
    }

    const bool keep_alive_;
    const std::thread::id connection_thread_;
    Tcp::Transport* const transport_;
    std::string description_;
    std::atomic<bool> answered_{false};
    Http::ResponseWriter writer_;
};

class RoutingHandler : public Http::Handler {
public:
    HTTP_PROTOTYPE(RoutingHandler)

    explicit RoutingHandler(std::shared_ptr<RouteTable> routes = nullptr) : routes_(std::move(routes)) {}

    void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
        auto pending = std::make_shared<PendingResponse>(request, std::move(writer), transport());
        dispatch(request, [pending](HttpResponse response) { pending->send(std::move(response)); });
    }

private:
    void dispatch(const Http::Request& request, Reply reply) {
        try {
            routes_->dispatch(convert(request), reply);
        } catch (const std::exception& error) {
            spdlog::error("{} {} failed: {}", Http::methodString(request.method()), to_valid_utf8(request.resource()),
                          error.what());
            reply(error_response(500, std::string("internal error: ") + error.what()));
        }
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
