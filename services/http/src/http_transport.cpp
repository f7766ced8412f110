#include "http_transport.h"

#include <pistache/peer.h>
#include <pistache/reactor.h>
#include <pistache/transport.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cdb/request_framing.h"
#include "cdb/server_thread.h"
#include "cdb/text_rules.h"
#include "pistache_private.h"

namespace cdb {
namespace {

using namespace Pistache;

// Answer bytes that the kernel has not taken yet, queued in this process for clients that do not
// read them (every HttpServer of the process together): what a slow reader costs is memory here.
std::atomic<std::size_t> unsent_answer_bytes{0};

// A connection with more unsent than this is not read until its client has taken some: its
// pipelined requests wait in the kernel, and TCP holds the client back (backpressure). So a slow
// reader costs at most this plus one answer (≤ the response limit).
constexpr std::size_t max_unsent_bytes_per_connection = 256 * 1024;
// Over this, in the whole process, the connections whose clients read least are closed, oldest
// write progress first, down to three quarters of it: the LB's memory stays within its container
// limit (256 MiB) whatever the number of slow readers.
constexpr std::size_t max_unsent_bytes = 16 * 1024 * 1024;
// A client whose queued answers the kernel has not taken for this long is not reading: closed
// (nginx's send_timeout has the same default).
constexpr std::chrono::seconds send_timeout{60};

// Each queued answer costs about a kilobyte of Pistache's buffers whatever its size.
constexpr int max_unwritten_answers = 1024;

// What HttpServer tracks per connection, in the peer's data. Only the connection's own server thread
// uses it.
struct ConnectionState {
    ConnectionState() = default;
    ~ConnectionState() { release_unsent(); }
    ConnectionState(const ConnectionState&) = delete;
    ConnectionState& operator=(const ConnectionState&) = delete;

    bool closing = false;              // the server closes it: input still buffered for it is not parsed
    int unwritten_answers = 0;         // answers queued that the kernel has not taken yet,
    std::size_t unwritten_bytes = 0;   // and about how large they are (counted in unsent_answer_bytes)
    // When the kernel last took a queued answer, or the queue started.
    std::chrono::steady_clock::time_point last_write_progress;
    // The socket was not read while the connection was backlogged: input may wait in the kernel.
    bool unread_input = false;
    // A connection's thread answers a few pipelined requests per turn, then lets its other
    // connections have theirs: the rest waits in held_input until the next turn.
    bool turn_yielded = false;
    // For the header, body and keep-alive timeouts: when the first byte of the request being read
    // arrived, if one is being read, and when the last input arrived.
    std::optional<std::chrono::steady_clock::time_point> request_started;
    std::chrono::steady_clock::time_point last_input = std::chrono::steady_clock::now();
    // Answers leave in request order, so what arrives while an answer is pending, pipelined
    // requests, waits in held_input and is parsed once the answer is written.
    bool answer_pending = false;
    std::string held_input;
    // Set once a chunked request has been parsed: its trailer section comes before the next request.
    std::optional<ChunkedTrailer> chunked_trailer;

    // Its client does not take its answers fast enough: nothing more is read from it until it does.
    bool backlogged() const {
        return unwritten_answers >= max_unwritten_answers || unwritten_bytes > max_unsent_bytes_per_connection;
    }
    bool paused() const { return answer_pending || turn_yielded || backlogged(); }
    // Nothing to lose by closing it: no request being read or answered, nothing unsent.
    bool idle() const {
        return !closing && !paused() && !request_started && held_input.empty() && unwritten_answers == 0;
    }

    // Takes its queued answers off the process's count at once, when it is closed for not reading
    // them: Pistache frees them only once its reactor has seen the close.
    void release_unsent() {
        unsent_answer_bytes -= unwritten_bytes;
        unwritten_bytes = 0;
    }
};

constexpr const char* connection_state_key = "cdb.connection";

// Pipelined requests answered in one go before the connection's thread serves its other connections.
constexpr int requests_per_turn = 32;

std::shared_ptr<ConnectionState> connection_state(const std::shared_ptr<Tcp::Peer>& peer) {
    auto state = std::static_pointer_cast<ConnectionState>(peer->tryGetData(connection_state_key));
    if (!state) {
        state = std::make_shared<ConnectionState>();
        peer->putData(connection_state_key, state);
    }
    return state;
}

void close_now(const std::shared_ptr<Tcp::Peer>& peer) {
    connection_state(peer)->closing = true;
    ::shutdown(peer->fd(), SHUT_RDWR);
}

// Closed for not reading its answers: their bytes no longer count.
void close_unread(const std::shared_ptr<Tcp::Peer>& peer) {
    connection_state(peer)->release_unsent();
    close_now(peer);
}

// Counts an answer's bytes left in Pistache's queue until the kernel has taken them. Pistache 0.0.5
// writes "Connection: close" but keeps the connection open; shutting the socket down makes its
// reactor see the end and release the peer. `on_drained` runs on the connection's thread once the
// answer is out and the connection is no longer backlogged: what its client sent meanwhile is read.
void track(Async::Promise<ssize_t> sent, const std::shared_ptr<Tcp::Peer>& peer, std::size_t bytes, bool close,
           std::function<void()> on_drained) {
    auto state = connection_state(peer);
    if (state->unwritten_answers++ == 0) state->last_write_progress = std::chrono::steady_clock::now();
    state->unwritten_bytes += bytes;
    unsent_answer_bytes += bytes;
    if (close) state->closing = true;
    auto written = [peer, state, bytes, close, on_drained = std::move(on_drained)] {
        --state->unwritten_answers;
        state->last_write_progress = std::chrono::steady_clock::now();
        const std::size_t taken = std::min(bytes, state->unwritten_bytes);  // 0 once released
        state->unwritten_bytes -= taken;
        unsent_answer_bytes -= taken;
        if (close) ::shutdown(peer->fd(), SHUT_RDWR);
        // On a later turn of the loop (as yield_turn does), not from inside Pistache's write completion.
        if (on_drained && !state->closing && !state->backlogged() && (state->unread_input || !state->held_input.empty())) {
            peer->send(RawBuffer("", 0)).then([on_drained](ssize_t) { on_drained(); }, [](std::exception_ptr) {});
        }
    };
    sent.then([written](ssize_t) { written(); }, [written](std::exception_ptr) { written(); });
}

// How much of `bytes` the kernel took at once; nullopt when the connection is unusable (the client
// has gone).
std::optional<std::size_t> send_what_fits(int descriptor, const std::string& bytes) {
    const ssize_t written = ::send(descriptor, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (written >= 0) return static_cast<std::size_t>(written);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    return std::nullopt;
}

// Writes an answer on the connection's own thread, straight to the socket; what the kernel does not
// take at once follows through Pistache's queue, behind which later answers wait.
//
// Never by flushing Pistache's queue: a flush also runs what other writes complete, and one of them
// may be the removal of this very connection; the process aborted ("Could not find peer to erase",
// found by make chaos, docs/PISTACHE.md). Written straight away, the answer also costs no queue
// hand-over: one system call where Pistache makes four.
void shed_unread_answers(Tcp::Transport* transport);

void deliver(const std::shared_ptr<Tcp::Peer>& peer, Tcp::Transport* transport, const std::string& bytes, bool close,
             std::function<void()> on_drained = nullptr) {
    auto state = connection_state(peer);
    std::size_t sent = 0;
    if (state->unwritten_answers == 0) {
        const auto taken = send_what_fits(peer->fd(), bytes);
        if (!taken) return close_now(peer);  // unusable: the reactor sees the end and releases the peer
        sent = *taken;
    }
    if (sent == bytes.size()) {
        if (close) close_now(peer);
        return;
    }
    auto queued = transport->asyncWrite(peer->fd(), RawBuffer(bytes.data() + sent, bytes.size() - sent));
    track(std::move(queued), peer, bytes.size() - sent, close, std::move(on_drained));
    if (unsent_answer_bytes > max_unsent_bytes) shed_unread_answers(transport);
}

// Pistache 0.0.5 keeps the bytes that follow a parsed request in its parser's private cursor and
// drops them when it resets the parser, so pipelined requests went unanswered. An explicit template
// instantiation may name a private member ([temp.explicit]): this reads the cursor without a patched
// Pistache. An upgrade that renames the member fails to compile; one that changes how the parser
// uses it fails the Pistache* tests. The tag is at namespace scope, where ExposePrivateMember's
// friend functions are defined.
}  // namespace

struct ParserCursor {
    using type = StreamCursor Http::Private::ParserBase::*;
    friend type member_pointer(ParserCursor);
};
template struct ExposePrivateMember<ParserCursor, &Http::Private::ParserBase::cursor>;

namespace {

StreamCursor& cursor_of(Http::RequestParser& parser) { return parser.*member_pointer(ParserCursor{}); }

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

// Runs `task` on the peer's own thread, from another one: the completion of an empty write runs
// there. If the write completed before `then` was attached, the continuation runs on the caller: go
// again. When the descriptor is no longer a connection of that thread, Pistache drops the write:
// the client has gone.
void on_connection_thread(const std::shared_ptr<Tcp::Peer>& peer, std::function<void()> task,
                          std::function<void()> gone) {
    const auto caller = std::this_thread::get_id();
    peer->send(RawBuffer("", 0))
        .then(
            [weak_peer = std::weak_ptr<Tcp::Peer>(peer), task, gone, caller](ssize_t) {
                if (std::this_thread::get_id() != caller) return task();
                if (auto peer = weak_peer.lock()) return on_connection_thread(peer, task, gone);
                gone();
            },
            [gone](std::exception_ptr) { gone(); });
}


// Carries an answer to its connection, on the connection's own thread, and then parses what
// waited behind it.
class ConnectionDelivery : public std::enable_shared_from_this<ConnectionDelivery> {
public:
    ConnectionDelivery(const Http::Request& request, const std::shared_ptr<Tcp::Peer>& peer, Tcp::Transport* transport,
                       std::shared_ptr<ConnectionState> connection, std::function<void()> resume)
        : connection_thread_(std::this_thread::get_id()),
          transport_(transport),
          connection_(std::move(connection)),
          resume_(std::move(resume)),
          peer_(peer) {
        if (spdlog::should_log(spdlog::level::debug)) description_ = describe(request);
    }

    void send(std::string bytes, bool close) {
        if (std::this_thread::get_id() == connection_thread_) return write(bytes, close);
        // Given on another thread: everything about the connection is its own thread's.
        const auto peer = peer_.lock();
        if (!peer) return gone();
        auto self = shared_from_this();
        on_connection_thread(
            peer, [self, bytes = std::move(bytes), close] { self->write(bytes, close); }, [self] { self->gone(); });
    }

private:
    void gone() const { spdlog::debug("{}: the client left before the answer", description_); }

    // On the connection's thread.
    void write(const std::string& bytes, bool close) {
        if (const auto peer = peer_.lock()) {
            deliver(peer, transport_, bytes, close, resume_);
        } else {
            gone();
        }
        connection_->answer_pending = false;
        resume_();
    }

    const std::thread::id connection_thread_;
    Tcp::Transport* const transport_;
    const std::shared_ptr<ConnectionState> connection_;
    const std::function<void()> resume_;  // on the connection's thread
    const std::weak_ptr<Tcp::Peer> peer_;
    std::string description_;
};

// Answers a request that cannot be parsed, or not in time, and closes: where it ends is unknown,
// so nothing after it can be read.
void refuse_and_close(const std::shared_ptr<Tcp::Peer>& peer, Tcp::Transport* transport, int status,
                      const std::string& message) {
    auto parser = Http::Handler::getParser(peer);
    const Http::Version version = parser->request.version();
    parser->reset();
    spdlog::debug("refused a request from {}: {} {}", peer->address().host(), status, to_valid_utf8(message));
    deliver(peer, transport, refusal_bytes(status, message, version), true);
}

// Reads what waits on a connection's socket, on its own thread (ServerTransport::read_client).
void read_client_now(Tcp::Transport* transport, const std::shared_ptr<Tcp::Peer>& peer);

// Frames a connection's input into requests (Pistache parses them) and hands each complete one to
// the pipeline, one at a time: answers leave in request order.
class ConnectionHandler : public Http::Handler {
public:
    HTTP_PROTOTYPE(ConnectionHandler)

    ConnectionHandler(RequestPipeline pipeline, std::size_t max_head_bytes)
        : pipeline_(std::move(pipeline)), max_head_bytes_(max_head_bytes) {}

    // Replaces Pistache 0.0.5's Http::Handler::onInput (private there, but a derived class may
    // override it), which answered a malformed request and kept the connection (a negative
    // Content-Length was a 500) and dropped every pipelined request after the first. The parsing is
    // still Pistache's; this decides what happens around it.
    void onInput(const char* bytes, size_t length, const std::shared_ptr<Tcp::Peer>& peer) override {
        const auto connection = connection_state(peer);
        const auto now = std::chrono::steady_clock::now();
        connection->last_input = now;
        if (connection->closing || hold_while_paused(peer, *connection, std::string_view(bytes, length))) return;
        if (!connection->request_started) connection->request_started = now;
        auto parser = getParser(peer);
        std::string pipelined;
        int answered = 0;
        while (length > 0) {
            if (connection->chunked_trailer) {
                const auto step = connection->chunked_trailer->read(std::string_view(bytes, length), max_head_bytes_);
                if (step.progress == ChunkedTrailer::Progress::refused) {
                    return refuse(peer, 400, "malformed trailer section after the last chunk");
                }
                if (step.progress == ChunkedTrailer::Progress::more) return;
                connection->chunked_trailer.reset();
                bytes += step.consumed;
                length -= step.consumed;
                if (length == 0) connection->request_started.reset();
                continue;
            }
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
            parser->request.copyAddress(peer->address());
            onRequest(parser->request, Http::ResponseWriter(parser->request.version(), transport(), this, peer));
            // Pistache refuses every transfer coding but chunked.
            if (parser->request.headers().tryGet<Http::Header::TransferEncoding>()) connection->chunked_trailer.emplace();
            pipelined = unparsed(*parser);
            parser->reset();
            if (pipelined.empty()) connection->request_started.reset();
            if (connection->closing || hold_while_paused(peer, *connection, pipelined)) return;
            if (++answered == requests_per_turn && !pipelined.empty()) return yield_turn(peer, connection, pipelined);
            bytes = pipelined.data();
            length = pipelined.size();
        }
    }

    void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
        const auto peer = writer.peer();  // alive: this is its connection's thread
        const auto connection = connection_state(peer);
        // Not timed while the answer is pending (check_timeouts): it comes within the handler's own
        // bound, and a 408 would tell the client that a write it may have made failed.
        connection->answer_pending = true;
        auto resume_later = [this, connection, weak_peer = std::weak_ptr<Tcp::Peer>(peer)] {
            resume(weak_peer, *connection);
        };
        auto delivery =
            std::make_shared<ConnectionDelivery>(request, peer, transport(), connection, std::move(resume_later));
        pipeline_.handle(request, [delivery](std::string bytes, bool close) { delivery->send(std::move(bytes), close); });
    }

private:
    void refuse(const std::shared_ptr<Tcp::Peer>& peer, int status, const std::string& message) {
        refuse_and_close(peer, transport(), status, message);
    }

    // Parses what waited, once nothing holds the connection back.
    void resume(const std::weak_ptr<Tcp::Peer>& weak_peer, ConnectionState& connection) {
        auto peer = weak_peer.lock();
        if (!peer) return;
        if (connection.paused()) return;
        std::string held;
        held.swap(connection.held_input);
        if (!held.empty()) onInput(held.data(), held.size(), peer);
        if (connection.unread_input && !connection.paused() && !connection.closing) {
            connection.unread_input = false;
            read_client_now(transport(), peer);
        }
    }

    // The connection's next turn comes after the other connections' pending input: an empty write
    // completes on a later turn of this thread's loop.
    void yield_turn(const std::shared_ptr<Tcp::Peer>& peer, const std::shared_ptr<ConnectionState>& connection,
                    std::string_view rest) {
        connection->turn_yielded = true;
        connection->held_input.append(rest);
        auto next_turn = [this, connection, weak_peer = std::weak_ptr<Tcp::Peer>(peer)] {
            connection->turn_yielded = false;
            resume(weak_peer, *connection);
        };
        peer->send(RawBuffer("", 0)).then([next_turn](ssize_t) { next_turn(); }, [](std::exception_ptr) {});
    }

    // Input that arrives while the connection is paused waits, up to one request's worth; a client
    // that sends more without waiting for its answer is cut off (one that does not read them is not
    // read meanwhile: ServerTransport::read_client). So does input that arrives while what waited is
    // still to be parsed: it belongs after that. False when nothing waits and the connection is not
    // paused.
    bool hold_while_paused(const std::shared_ptr<Tcp::Peer>& peer, ConnectionState& connection,
                           std::string_view bytes) {
        if (!connection.paused() && connection.held_input.empty()) return false;
        if (connection.held_input.size() + bytes.size() > getMaxRequestSize() + max_head_bytes_) {
            close_now(peer);
        } else {
            connection.held_input.append(bytes);
        }
        return true;
    }

    RequestPipeline pipeline_;
    std::size_t max_head_bytes_;
};

struct ConnectionTimeouts {
    std::chrono::milliseconds header;
    std::chrono::milliseconds body;
    // A kept-alive connection without a request for this long is closed (Pistache's default).
    std::chrono::milliseconds idle{std::chrono::seconds(300)};
};

thread_local ServerThread* this_server_thread = nullptr;

// One per server thread: Pistache's transport, plus the connection timeouts and the descriptors that
// services watch (ServerThread). Pistache 0.0.5's Http::Endpoint hides its reactor; a Tcp::Listener
// with this transport lets other sockets join it.
class ServerTransport final : public Tcp::Transport, public ServerThread {
public:
    ServerTransport(const std::shared_ptr<Tcp::Handler>& handler, ConnectionTimeouts timeouts,
                    std::shared_ptr<Acceptor> acceptor)
        : Tcp::Transport(handler), handler_(handler), timeouts_(timeouts), acceptor_(std::move(acceptor)) {}
    ~ServerTransport() override {
        if (timer_ >= 0) ::close(timer_);
    }

    std::shared_ptr<Aio::Handler> clone() const override {
        auto transport = std::make_shared<ServerTransport>(handler_->clone(), timeouts_, acceptor_);
        acceptor_->add_transport(transport.get());
        return transport;
    }

    void watch(int descriptor, std::function<void()> on_readable) override {
        watched_.emplace_back(descriptor, std::move(on_readable));
        reactor()->registerFd(key(), descriptor, Polling::NotifyOn::Read, Polling::Mode::Level);
    }

    void onReady(const Aio::FdSet& ready) override {
        this_server_thread = this;
        if (timer_ < 0) start_timer();
        std::vector<Polling::Event> pistaches;
        bool ours = false;
        for (const auto& entry : ready) {
            const auto descriptor = static_cast<int>(entry.getTag().value());
            if (descriptor == timer_) {
                ours = true;
                check_timeouts();
            } else if (const auto found = find_watched(descriptor)) {
                ours = true;
                (*found)();
            } else if (const auto client = peers.find(descriptor); entry.isReadable() && client != peers.end()) {
                ours = true;
                read_client(client->second);
                // Pistache looks at readability first: the same event's writability would be lost,
                // and a queued answer would wait for the next event (for ever, from a client that
                // sends nothing more).
                if (entry.isWritable() && peers.count(descriptor) > 0) {
                    Polling::Event event(entry.getTag());
                    event.flags.setFlag(Polling::NotifyOn::Write);
                    pistaches.push_back(std::move(event));
                }
            } else {
                Polling::Event event(entry.getTag());
                if (entry.isReadable()) event.flags.setFlag(Polling::NotifyOn::Read);
                if (entry.isWritable()) event.flags.setFlag(Polling::NotifyOn::Write);
                if (entry.isHangup()) event.flags.setFlag(Polling::NotifyOn::Hangup);
                pistaches.push_back(std::move(event));
            }
        }
        if (!ours) return Tcp::Transport::onReady(ready);
        if (!pistaches.empty()) Tcp::Transport::onReady(Aio::FdSet(std::move(pistaches)));
    }

    // Pistache 0.0.5 reads a client until EAGAIN: one failed recv per request. A read that leaves
    // room in the buffer has drained the socket, and the next bytes raise a new edge-triggered
    // event (nginx reads the same way). A backlogged connection is not read (backpressure).
    void read_client(std::shared_ptr<Tcp::Peer> peer) {
        thread_local char buffer[16 * 1024];
        const auto connection = connection_state(peer);
        for (;;) {
            if (connection->backlogged()) {
                connection->unread_input = true;  // read on resuming: ConnectionHandler::resume
                return;
            }
            const ssize_t received = ::recv(peer->fd(), buffer, sizeof buffer, 0);
            if (received > 0) {
                handler_->onInput(buffer, static_cast<std::size_t>(received), peer);
                if (static_cast<std::size_t>(received) < sizeof buffer) return;
                continue;
            }
            if (received < 0 && errno == EINTR) continue;
            if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            handler_->onDisconnection(peer);  // the end of the stream, or an error
            removePeer(peer);
            return;
        }
    }

    // Over the process's budget of unsent answer bytes: closes this thread's connections whose
    // clients read least (the oldest write progress first), down to three quarters of the budget.
    void shed_unread_answers() {
        std::vector<std::pair<std::chrono::steady_clock::time_point, std::shared_ptr<Tcp::Peer>>> slow;
        for (const auto& [descriptor, peer] : peers) {
            const auto connection = connection_state(peer);
            if (connection->unwritten_bytes > 0) slow.emplace_back(connection->last_write_progress, peer);
        }
        std::sort(slow.begin(), slow.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [progress, peer] : slow) {
            if (unsent_answer_bytes <= max_unsent_bytes / 4 * 3) break;
            spdlog::debug("closing a connection from {}: its client left {} bytes of answers unread",
                          peer->address().host(), connection_state(peer)->unwritten_bytes);
            close_unread(peer);
            ++shed_since_warning_;
        }
        // One line per 10 s at most: the clients that cause it choose how often it happens.
        const auto now = std::chrono::steady_clock::now();
        if (shed_since_warning_ > 0 && now - last_shed_warning_ > std::chrono::seconds(10)) {
            spdlog::warn("closed {} connections whose clients did not read their answers: over the {} MiB of "
                         "unsent answers the process allows", shed_since_warning_, max_unsent_bytes >> 20);
            shed_since_warning_ = 0;
            last_shed_warning_ = now;
        }
    }

private:
    const std::function<void()>* find_watched(int descriptor) const {
        for (const auto& [watched, callback] : watched_) {
            if (watched == descriptor) return &callback;
        }
        return nullptr;
    }

    // Runs on the server thread from its first event on: a check every quarter of the shortest
    // timeout, so a request is cut off between 1 and 1.25 times its limit.
    void start_timer() {
        timer_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (timer_ < 0) throw std::runtime_error(std::string("timerfd_create: ") + std::strerror(errno));
        const auto period = std::clamp(std::min(timeouts_.header, timeouts_.body) / 4, std::chrono::milliseconds(10),
                                       std::chrono::milliseconds(1000));
        itimerspec spec{};
        spec.it_interval.tv_sec = period.count() / 1000;
        spec.it_interval.tv_nsec = (period.count() % 1000) * 1000000;
        spec.it_value = spec.it_interval;
        ::timerfd_settime(timer_, 0, &spec, nullptr);
        reactor()->registerFd(key(), timer_, Polling::NotifyOn::Read, Polling::Mode::Level);
    }

    // A request whose head or body is not complete within its timeout is answered 408 and closed;
    // a connection waiting for an answer is not timed (the handler's own bounds apply); one whose
    // client has taken none of its queued answers within the send timeout is closed. Also where this
    // thread closes idle connections when the acceptor is at its connection limit.
    void check_timeouts() {
        std::uint64_t expirations;
        [[maybe_unused]] auto drained = ::read(timer_, &expirations, sizeof expirations);
        if (const auto drains = acceptor_->drain_requests(); drains != drains_done_) {
            drains_done_ = drains;
            close_idle_connections();
        }
        const auto now = std::chrono::steady_clock::now();
        std::vector<std::pair<std::shared_ptr<Tcp::Peer>, bool>> expired;  // peer, whether a request was cut
        std::vector<std::shared_ptr<Tcp::Peer>> not_reading;
        for (const auto& [descriptor, peer] : peers) {
            const auto connection = connection_state(peer);
            if (!connection->closing && connection->unwritten_answers > 0 &&
                now - connection->last_write_progress > send_timeout) {
                not_reading.push_back(peer);
                continue;
            }
            if (connection->closing || connection->paused() || !connection->held_input.empty()) continue;
            if (connection->request_started) {
                const bool in_body = Http::Handler::getParser(peer)->step()->id() == Http::Private::BodyStep::Id;
                if (now - *connection->request_started > (in_body ? timeouts_.body : timeouts_.header)) {
                    expired.emplace_back(peer, true);
                }
            } else if (now - connection->last_input > timeouts_.idle) {
                expired.emplace_back(peer, false);
            }
        }
        for (const auto& peer : not_reading) close_unread(peer);
        for (const auto& [peer, request_cut] : expired) {
            if (!request_cut) {
                close_now(peer);
                continue;
            }
            const bool in_body = Http::Handler::getParser(peer)->step()->id() == Http::Private::BodyStep::Id;
            const auto limit = in_body ? timeouts_.body : timeouts_.header;
            refuse_and_close(peer, this, 408,
                             std::string(in_body ? "the request body" : "the request head") + " did not arrive within " +
                                 std::to_string(limit.count()) + " ms");
        }
    }

    // At the connection limit: closes the least recently used idle connections, an eighth of them
    // (at least one, at most 32), as nginx reuses its idle connections.
    void close_idle_connections() {
        std::vector<std::pair<std::chrono::steady_clock::time_point, std::shared_ptr<Tcp::Peer>>> idle;
        for (const auto& [descriptor, peer] : peers) {
            const auto connection = connection_state(peer);
            if (connection->idle()) idle.emplace_back(connection->last_input, peer);
        }
        const auto count = static_cast<std::ptrdiff_t>(std::min(idle.size(), std::clamp<std::size_t>(idle.size() / 8, 1, 32)));
        std::partial_sort(idle.begin(), idle.begin() + count, idle.end(),
                          [](const auto& a, const auto& b) { return a.first < b.first; });
        for (auto it = idle.begin(); it != idle.begin() + count; ++it) close_now(it->second);
    }

    const std::shared_ptr<Tcp::Handler> handler_;
    const ConnectionTimeouts timeouts_;
    const std::shared_ptr<Acceptor> acceptor_;
    std::uint64_t drains_done_ = 0;
    std::size_t shed_since_warning_ = 0;
    std::chrono::steady_clock::time_point last_shed_warning_{};
    int timer_ = -1;
    std::vector<std::pair<int, std::function<void()>>> watched_;
};

// Every transport of an HttpServer is a ServerTransport (serve_connections).
void read_client_now(Tcp::Transport* transport, const std::shared_ptr<Tcp::Peer>& peer) {
    static_cast<ServerTransport*>(transport)->read_client(peer);
}

void shed_unread_answers(Tcp::Transport* transport) { static_cast<ServerTransport*>(transport)->shed_unread_answers(); }

}  // namespace

ServerThread* current_server_thread() { return this_server_thread; }

std::size_t connection_limit(const HttpServerOptions& options) {
    rlimit descriptors{};
    if (::getrlimit(RLIMIT_NOFILE, &descriptors) != 0) return options.max_connections;
    if (descriptors.rlim_cur < descriptors.rlim_max) {
        descriptors.rlim_cur = descriptors.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &descriptors);
        ::getrlimit(RLIMIT_NOFILE, &descriptors);
    }
    if (descriptors.rlim_cur == RLIM_INFINITY) return options.max_connections;
    const auto available = static_cast<std::size_t>(descriptors.rlim_cur);
    const std::size_t by_descriptors =
        available > options.reserved_descriptors
            ? (available - options.reserved_descriptors) / std::max<std::size_t>(1, options.descriptors_per_connection)
            : 0;
    return std::max<std::size_t>(1, std::min(options.max_connections, by_descriptors));
}

void serve_connections(Tcp::Listener& listener, RequestPipeline pipeline, const ConnectionRules& rules,
                       std::shared_ptr<Acceptor> acceptor) {
    auto handler = std::make_shared<ConnectionHandler>(std::move(pipeline), rules.max_head_bytes);
    handler->setMaxRequestSize(rules.max_request_bytes);
    handler->setMaxResponseSize(rules.max_request_bytes + 64 * 1024);
    const ConnectionTimeouts timeouts{rules.header_timeout, rules.body_timeout};
    listener.setHandler(handler);
    listener.setTransportFactory([handler, timeouts, acceptor = std::move(acceptor)] {
        return std::make_shared<ServerTransport>(handler, timeouts, acceptor);
    });
}

}  // namespace cdb
