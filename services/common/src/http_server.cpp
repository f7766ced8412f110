#include "cdb/http_server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <thread>

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
    // A handler answers later (the LB): answers leave in request order, so what arrives meanwhile,
    // pipelined requests, waits here and is parsed once the answer is written.
    bool answer_pending = false;
    // A connection's thread answers a few pipelined requests per turn, then lets its other
    // connections have theirs: the rest waits here until the next turn.
    bool turn_yielded = false;
    std::string held_input;
    bool paused() const { return answer_pending || turn_yielded; }
};

// Pipelined requests answered in one go before the connection's thread serves its other connections.
constexpr int requests_per_turn = 32;

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

// Counts an answer's bytes left in Pistache's queue until the kernel has taken them. Pistache 0.0.5
// writes "Connection: close" but keeps the connection open; shutting the socket down makes its
// reactor see the end and release the peer.
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

// The bytes of an answer, laid out as Pistache 0.0.5's ResponseWriter lays them out.
std::string serialize(const HttpResponse& response, Http::Version version, bool keep_alive) {
    std::string bytes;
    bytes.reserve(160 + response.body.size());
    bytes.append(Http::versionString(version)).append(" ").append(std::to_string(response.status)).append(" ");
    bytes.append(Http::codeString(static_cast<Http::Code>(response.status))).append("\r\n");
    bytes.append("Content-Type: ").append(response.content_type).append("\r\n");
    for (const auto& [name, value] : response.headers) bytes.append(name).append(": ").append(value).append("\r\n");
    bytes.append(keep_alive ? "Connection: Keep-Alive\r\n" : "Connection: Close\r\n");
    bytes.append("Content-Length: ").append(std::to_string(response.body.size())).append("\r\n\r\n");
    bytes.append(response.body);
    return bytes;
}

// Writes an answer on the connection's own thread, straight to the socket; what the kernel does not
// take at once follows through Pistache's queue, behind which later answers wait.
//
// Never by flushing Pistache's queue: a flush also runs what other writes complete, and one of them
// may be the removal of this very connection. On waking from a freeze, Pistache 0.0.5 first queues
// a 408 for each connection that has waited longer than the header timeout, to be followed by its
// removal, then reads their requests; a flush while answering one removed the connection being read
// and the process aborted ("Could not find peer to erase", found by make chaos). Written straight
// away, the answer also costs no queue hand-over: one system call where Pistache makes four.
void deliver(const std::shared_ptr<Tcp::Peer>& peer, Tcp::Transport* transport, const std::string& bytes, bool close) {
    auto state = connection_state(peer);
    peer->setIdle(true);  // as Pistache's own writer does: the connection waits for its next request
    std::size_t sent = 0;
    if (state->unwritten_answers == 0) {
        const ssize_t written = ::send(peer->fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            state->closing = true;  // the client has gone: the reactor sees the end and releases the peer
            return;
        }
        sent = written > 0 ? static_cast<std::size_t>(written) : 0;
    }
    if (sent == bytes.size()) {
        if (close) close_now(peer);
        return;
    }
    auto queued = transport->asyncWrite(peer->fd(), RawBuffer(bytes.data() + sent, bytes.size() - sent));
    track(std::move(queued), peer, bytes.size() - sent, close);
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

// Everything an answer needs once onRequest has returned: a handler may answer later, from another
// thread (the LB answers when a slave has).
//
// Pistache 0.0.5 queues each write under the connection's descriptor number. Written from another
// thread, an answer could reach a stranger: the client hangs up, its connection's thread closes the
// descriptor, a new connection gets the same number, then the write is taken from the queue. So an
// answer given on another thread is first carried to the connection's own thread, by an empty write
// whose completion runs there; that thread alone closes the connection, so there the client's
// presence is certain, and the answer is written at once (deliver).
class PendingResponse : public std::enable_shared_from_this<PendingResponse> {
public:
    PendingResponse(const Http::Request& request, const std::shared_ptr<Tcp::Peer>& peer, Tcp::Transport* transport,
                    std::function<void()> written)
        : keep_alive_(client_wants_keep_alive(request)),
          version_(request.version()),
          connection_thread_(std::this_thread::get_id()),
          transport_(transport),
          written_(std::move(written)),
          peer_(peer) {
        if (spdlog::should_log(spdlog::level::debug)) {
            description_ = Http::methodString(request.method()) + std::string(" ") + to_valid_utf8(request.resource());
        }
    }

    void send(HttpResponse response) {
        if (answered_.exchange(true)) return;
        if (std::this_thread::get_id() == connection_thread_) return write(response);
        carry_to_connection_thread(std::move(response));
    }

private:
    void carry_to_connection_thread(HttpResponse response) {
        const auto peer = peer_.lock();
        if (!peer) return gone(response.status);
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
        const auto peer = peer_.lock();
        if (!peer) return gone(response.status);
        spdlog::debug("{} -> {}", description_, response.status);
        const bool keep_alive = keep_alive_ && !response.close_connection;
        deliver(peer, transport_, serialize(response, version_, keep_alive), !keep_alive);
        written_();
    }

    const bool keep_alive_;
    const Http::Version version_;
    const std::thread::id connection_thread_;
    Tcp::Transport* const transport_;
    const std::function<void()> written_;
    const std::weak_ptr<Tcp::Peer> peer_;
    std::string description_;
    std::atomic<bool> answered_{false};
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
        if (connection->paused()) return hold(peer, *connection, std::string_view(bytes, length));
        auto parser = getParser(peer);
        std::string pipelined;
        int answered = 0;
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
            pipelined = unparsed(*parser);
            parser->reset();
            if (connection->closing) return;
            if (connection->answer_pending) return hold(peer, *connection, pipelined);
            if (++answered == requests_per_turn && !pipelined.empty()) {
                hold(peer, *connection, pipelined);
                return yield_turn(peer, connection);
            }
            bytes = pipelined.data();
            length = pipelined.size();
        }
    }

    void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
        const auto peer = writer.peer();  // alive: this is its connection's thread
        const auto connection = connection_state(peer);
        connection->answer_pending = true;
        auto written = [this, connection, weak_peer = std::weak_ptr<Tcp::Peer>(peer)] {
            connection->answer_pending = false;
            resume(weak_peer, *connection);
        };
        auto pending = std::make_shared<PendingResponse>(request, peer, transport(), std::move(written));
        const Reply reply = [pending](HttpResponse response) { pending->send(std::move(response)); };
        try {
            routes_->dispatch(convert(request), reply);
        } catch (const std::exception& error) {
            spdlog::error("{} {} failed: {}", Http::methodString(request.method()), to_valid_utf8(request.resource()),
                          error.what());
            reply(error_response(500, std::string("internal error: ") + error.what()));
        }
        // Pistache answers 408 and drops the connection when a request is not answered within the
        // header timeout (1 s) of its parsing: right for a sync handler, whose thread cannot be
        // interrupted anyway, wrong for an answer that comes later within its own bound (a write
        // may be applied after the client was told 408; make chaos saw 216 of them). The
        // connection counts as idle until its answer is written.
        if (connection->answer_pending) peer->setIdle(true);
    }

private:
    // Answers a request that cannot be parsed and closes: where it ends is unknown, so nothing after it can be read.
    void refuse(const std::shared_ptr<Tcp::Peer>& peer, int status, const std::string& message) {
        auto parser = getParser(peer);
        const Http::Version version = parser->request.version();
        parser->reset();
        spdlog::debug("refused a request from {}: {} {}", peer->address().host(), status, to_valid_utf8(message));
        deliver(peer, transport(), serialize(error_response(status, to_valid_utf8(message)), version, false), true);
    }

    // Parses what waited, once nothing holds the connection back.
    void resume(const std::weak_ptr<Tcp::Peer>& weak_peer, ConnectionState& connection) {
        auto peer = weak_peer.lock();
        if (!peer || connection.paused() || connection.held_input.empty()) return;
        const std::string held = std::move(connection.held_input);
        connection.held_input.clear();
        onInput(held.data(), held.size(), peer);
    }

    // The connection's next turn comes after the other connections' pending input: an empty write
    // completes on a later turn of this thread's loop.
    void yield_turn(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnectionState>& connection) {
        connection->turn_yielded = true;
        auto next_turn = [this, connection, weak_peer = std::weak_ptr<Tcp::Peer>(peer)] {
            connection->turn_yielded = false;
            resume(weak_peer, *connection);
        };
        peer->send(RawBuffer("", 0)).then([next_turn](ssize_t) { next_turn(); }, [](std::exception_ptr) {});
    }

    // Input that arrives while the connection is paused waits, up to one request's worth; a client
    // that sends more without reading is cut off.
    void hold(const std::shared_ptr<Tcp::Peer>& peer, ConnectionState& connection, std::string_view bytes) {
        if (connection.held_input.size() + bytes.size() > getMaxRequestSize() + max_head_bytes_) return close_now(peer);
        connection.held_input.append(bytes);
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
