#include "cdb/http_server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include <sys/socket.h>

#include "cdb/json_builder.h"
#include "cdb/request_framing.h"
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
    // Pistache 0.0.5 lets raw control bytes through in the request target; the LB's upstream client
    // cut the path at a NUL, so GET /get/a<NUL>b reached the slave as GET /get/a.
    if (has_control_character(converted.path) || has_control_character(converted.raw_query)) {
        converted.malformed = "the request target must not contain control characters: percent-encode them";
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

// What HttpServer tracks per connection, in the peer's data: only the peer's reactor thread uses it.
struct ConnectionState {
    bool closing = false;             // the server closes it: input still buffered for it is not parsed
    int unwritten_answers = 0;        // answers queued that the kernel has not taken yet,
    std::size_t unwritten_bytes = 0;  // and about how large they are
};

// Each queued answer costs about a kilobyte of Pistache's buffers whatever its size.
constexpr int max_unwritten_answers = 1024;

std::shared_ptr<ConnectionState> connection_state(const std::shared_ptr<Tcp::Peer>& peer) {
    constexpr const char* key = "cdb.connection";
    auto state = std::static_pointer_cast<ConnectionState>(peer->tryGetData(key));
    if (!state) {
        state = std::make_shared<ConnectionState>();
        peer->putData(key, state);
    }
    return state;
}

void close_now(const std::shared_ptr<Tcp::Peer>& peer) {
    connection_state(peer)->closing = true;
    ::shutdown(peer->fd(), SHUT_RDWR);
}

// Counts an answer of about `bytes` until the kernel has taken it. Pistache 0.0.5 writes
// "Connection: close" but keeps the connection open; shutting the socket down makes its reactor see
// the end and release the peer.
void track(Async::Promise<ssize_t> sent, const std::shared_ptr<Tcp::Peer>& peer, std::size_t bytes, bool close) {
    auto state = connection_state(peer);
    ++state->unwritten_answers;
    state->unwritten_bytes += bytes;
    state->closing = state->closing || close;
    auto written = [peer, state, bytes, close] {
        --state->unwritten_answers;
        state->unwritten_bytes -= bytes;
        if (close) ::shutdown(peer->fd(), SHUT_RDWR);
    };
    sent.then([written](ssize_t) { written(); }, [written](std::exception_ptr) { written(); });
}

// Pistache 0.0.5 keeps the bytes that follow a parsed request in its parser's private cursor and
// drops them when it resets the parser, so pipelined requests went unanswered. An explicit template
// instantiation may name a private member ([temp.explicit]): this reads the cursor without a patched
// Pistache. An upgrade that renames the member fails to compile; one that changes how the parser
// uses it fails the Pistache* tests.
using ParserCursor = StreamCursor Http::Private::ParserBase::*;
struct ParserCursorTag {};
ParserCursor member_pointer(ParserCursorTag);
template <ParserCursor Member>
struct ExposeParserCursor {
    friend ParserCursor member_pointer(ParserCursorTag) { return Member; }
};
template struct ExposeParserCursor<&Http::Private::ParserBase::cursor>;

StreamCursor& cursor_of(Http::RequestParser& parser) { return parser.*member_pointer(ParserCursorTag{}); }

// What the parser holds of the current request, from its first byte.
std::string_view buffered(Http::RequestParser& parser) {
    const StreamCursor& cursor = cursor_of(parser);
    return {cursor.buf->begptr(), static_cast<std::size_t>(cursor.buf->endptr() - cursor.buf->begptr())};
}

// What the parser holds after the request it has just parsed: the start of pipelined requests.
std::string unparsed(Http::RequestParser& parser) {
    const StreamCursor& cursor = cursor_of(parser);
    return std::string(cursor.offset(), cursor.remaining());
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

    explicit RoutingHandler(std::shared_ptr<RouteTable> routes = nullptr, std::size_t max_head_bytes = 0)
        : routes_(std::move(routes)), max_head_bytes_(max_head_bytes) {}

    // Replaces Pistache 0.0.5's Http::Handler::onInput (private there, but a derived class may
    // override it), which answered a malformed request and kept the connection (a negative
    // Content-Length was a 500) and dropped every pipelined request after the first. The parsing is
    // still Pistache's; this decides what happens around it.
    void onInput(const char* bytes, size_t length, const std::shared_ptr<Tcp::Peer>& peer) override {
        const auto connection = connection_state(peer);
        if (connection->closing) return;
        auto parser = getParser(peer);
        std::string pipelined;
        while (length > 0) {
            if (!parser->feed(bytes, length)) {
                return refuse(peer, 413, "the request is over the limit of " + std::to_string(getMaxRequestSize()) +
                                             " bytes");
            }
            Http::Private::State state;
            try {
                const bool head_pending = parser->step()->id() != Http::Private::BodyStep::Id;
                const RequestLimits limits{max_head_bytes_, getMaxRequestSize()};
                if (auto refusal = head_pending ? check_framing(buffered(*parser), limits) : std::nullopt) {
                    return refuse(peer, refusal->status, refusal->message);
                }
                state = parser->parse();
            } catch (const Http::HttpError& error) {
                return refuse(peer, error.code(), "malformed request: " + error.reason());
            } catch (const std::exception& error) {
                return refuse(peer, 400, std::string("malformed request: ") + error.what());
            }
            if (state != Http::Private::State::Done) return;
            // A client that pipelines without reading its answers would make them pile up here.
            if (connection->unwritten_answers >= max_unwritten_answers ||
                connection->unwritten_bytes > 2 * getMaxResponseSize()) {
                return close_now(peer);
            }
            peer->setIdle(false);  // a request is being answered: a timeout now gets a 408
            parser->request.copyAddress(peer->address());
            onRequest(parser->request, Http::ResponseWriter(parser->request.version(), transport(), this, peer));
            // Responses leave in request order because onRequest answers before returning.
            pipelined = unparsed(*parser);
            parser->reset();
            if (connection->closing) return;
            bytes = pipelined.data();
            length = pipelined.size();
        }
    }

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
    }

private:
    // Answers a request that cannot be parsed and closes: where it ends is unknown, so nothing after it can be read.
    void refuse(const std::shared_ptr<Tcp::Peer>& peer, int status, const std::string& message) {
        auto parser = getParser(peer);
        Http::ResponseWriter writer(parser->request.version(), transport(), this, peer);
        parser->reset();
        spdlog::debug("refused a request from {}: {} {}", peer->address().host(), status, to_valid_utf8(message));
        const HttpResponse response = error_response(status, to_valid_utf8(message));
        writer.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
        auto sent = writer.send(static_cast<Http::Code>(status), response.body,
                                Http::Mime::MediaType::fromString(response.content_type));
        track(std::move(sent), peer, approximate_size(response), true);
    }

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
        if (peer) track(std::move(sent), peer, approximate_size(response), !keep_alive);
    }

    static std::size_t approximate_size(const HttpResponse& response) {
        std::size_t size = 128 + response.body.size();  // the status line and the fixed headers
        for (const auto& [name, value] : response.headers) size += name.size() + value.size() + 4;
        return size;
    }

    std::shared_ptr<RouteTable> routes_;
    std::size_t max_head_bytes_;
};

}  // namespace

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
    endpoint_->setHandler(std::make_shared<RoutingHandler>(routes_, options_.max_head_bytes));
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
