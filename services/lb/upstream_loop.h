#pragma once
// Forwards requests to slaves without a thread waiting on each one: an epoll set drives many
// keep-alive connections at once, on the LB's server thread that took the request (its descriptor
// joins that thread's reactor, cdb/server_thread.h), so a request and its forwarding never change
// threads. Pistache's own client crashes and mixes up responses under faults (docs/PISTACHE.md), and
// a blocking client holds a server thread per request in flight, which measured 0.4x of a direct
// slave. A connection carries one request at a time; one whose request failed is closed, never
// reused, so a late answer can never be read as the answer to the next request.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http_response_reader.h"
#include "socket_address.h"

namespace cdb::lb {

struct UpstreamLimits {
    std::chrono::milliseconds connect{300};   // to establish a connection
    std::chrono::milliseconds total{2000};    // from the start of a call to its whole answer
    std::size_t max_response_bytes = 1 << 20;
    std::size_t max_idle_per_slave = 64;      // kept-alive connections waiting for a request
    std::size_t max_connections = 1024;       // open at once, per loop: bounds the calls in flight
    std::size_t max_queued = 4096;            // calls handed over and not started yet, per loop
    // Answers completed in one turn are all held until the turn hands them on: a turn ends once they
    // reach this, and what else was ready waits for the next turn (the answer that crosses it is kept).
    std::size_t max_answer_bytes_per_turn = 2 << 20;
};

enum class UpstreamFailure {
    none,
    overloaded,       // refused by this LB before anything was sent (stopping, or too many calls)
    no_connection,    // refused, unreachable, or the connection failed
    connect_timeout,  // no connection within the connect timeout (a vanished address)
    send_failed,      // the connection broke before the whole request was written
    no_answer,        // the request was sent; the connection closed before a complete answer
    timed_out,        // the request was sent; no complete answer within the call's deadline
    bad_answer,       // the answer was malformed or too large
};

struct UpstreamOutcome {
    UpstreamFailure failure = UpstreamFailure::none;
    std::optional<UpstreamResponse> response;  // set when failure is none
    std::string problem;                       // what went wrong, for the client's error message
    std::chrono::steady_clock::duration elapsed{};

    // The slave cannot have acted on the request: it never got all of it.
    bool never_arrived() const {
        return failure == UpstreamFailure::overloaded || failure == UpstreamFailure::no_connection ||
               failure == UpstreamFailure::connect_timeout || failure == UpstreamFailure::send_failed;
    }
};

struct UpstreamCall {
    int slave = 0;
    std::optional<SocketAddress> address;  // none when the slave's name did not resolve
    std::string request;                   // the whole HTTP/1.1 request
    // From the start of the call to its whole answer; UpstreamLimits::total when unset.
    std::optional<std::chrono::milliseconds> deadline;
    std::function<void(UpstreamOutcome)> done;  // runs once, on the loop's driver thread: keep it short
};

class UpstreamLoop {
public:
    explicit UpstreamLoop(UpstreamLimits limits);
    ~UpstreamLoop();
    UpstreamLoop(const UpstreamLoop&) = delete;
    UpstreamLoop& operator=(const UpstreamLoop&) = delete;

    // Readable when the loop has work: the thread that drives it then calls run_ready.
    int descriptor() const { return epoll_fd_; }
    // The calling thread drives the loop from now on: it calls run_ready whenever the descriptor is
    // readable, and its calls start at once.
    void drive_from_this_thread();
    // Does what is ready without waiting: answers, writes, new calls, timeouts. On the driver's
    // thread only.
    void run_ready();

    // Thread-safe. On the driver's thread the call starts at once; from another thread it waits for
    // the driver's next turn. `done` runs once, on the driver's thread, or here at once when the
    // loop is stopped or too many calls wait.
    void submit(UpstreamCall call);
    // Fails every call in flight or waiting (their `done` runs on the driver's thread), closes every
    // connection. Waits for the driver, up to a second; without one, or on its thread, does it here.
    void stop();

private:
    struct Connection;
    struct Deadline;
    struct State;
    using Completions = std::vector<std::pair<std::function<void(UpstreamOutcome)>, UpstreamOutcome>>;

    // Every function below runs on the driver's thread; the callbacks they conclude wait in `done`,
    // so that none runs while the loop's state is half updated.
    void start(UpstreamCall call, Completions& done);
    void on_event(Connection& connection, std::uint32_t events, Completions& done);
    void begin_sending(Connection& connection, Completions& done);
    void write_more(Connection& connection, Completions& done);
    void read_more(Connection& connection, Completions& done);
    void finish(Connection& connection, UpstreamResponse response, Completions& done);
    void fail(Connection& connection, UpstreamFailure failure, std::string problem, Completions& done);
    void close(Connection& connection);
    void watch(Connection& connection, std::uint32_t events);
    void add_deadline(std::chrono::steady_clock::time_point at, int fd, std::uint64_t generation);
    void expire_deadlines(Completions& done);
    void close_all(Completions& done);
    Connection* take_idle(int slave, const SocketAddress& address);
    static void run_completions(Completions& done);

    const UpstreamLimits limits_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;   // calls from other threads are waiting, or the loop must stop
    int timer_fd_ = -1;  // the earliest deadline is due

    std::mutex queue_mutex_;
    std::vector<UpstreamCall> queued_;  // calls from other threads
    std::atomic<bool> stopping_{false};

    std::atomic<std::thread::id> driver_{};
    std::atomic<bool> stopped_{false};

    std::unique_ptr<State> state_;  // the driver's alone
};

// A loop driven by a thread of its own, for callers that are not LB server threads: the
// coordinator's probes and announcements, which then have the same bounds as forwarded requests.
class DrivenUpstreamLoop {
public:
    explicit DrivenUpstreamLoop(UpstreamLimits limits);
    ~DrivenUpstreamLoop();
    UpstreamLoop& loop() { return loop_; }

private:
    UpstreamLoop loop_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

// One loop per LB server thread, each driven by the thread that claims it with its first call: a
// request and its forwarding stay on one thread.
class UpstreamClient {
public:
    UpstreamClient(UpstreamLimits limits, std::size_t server_threads);
    // On an LB server thread (cdb::current_server_thread); elsewhere the call is refused.
    void submit(UpstreamCall call);
    void stop();
    // The loop this LB server thread drives (nullptr elsewhere): a call submitted to it later from
    // another thread still runs, and ends, on this thread.
    UpstreamLoop* loop_of_this_thread();

private:

    std::vector<std::unique_ptr<UpstreamLoop>> loops_;
    std::atomic<std::size_t> claimed_{0};
};

}  // namespace cdb::lb
