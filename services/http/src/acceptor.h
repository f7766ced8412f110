#pragma once
// Pistache 0.0.5's Listener accepts on a thread of its own, from a level-triggered epoll set, with
// no limit: at the descriptor limit accept failed with EMFILE, the connection stayed queued and the
// thread spun on it (a core at 100%, /lb/healthz unanswered). The Acceptor takes the listening
// socket out of the Listener's epoll set and accepts itself, up to a number of connections that the
// descriptor limit allows. At that number (or at EMFILE anyway) it stops polling the socket, so
// connections wait in the kernel's queue, and asks the server threads to close idle keep-alive
// connections (as nginx reuses its idle connections); a closed connection wakes it.
#include <pistache/listener.h>
#include <pistache/transport.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cdb {

class Acceptor : public std::enable_shared_from_this<Acceptor> {
public:
    explicit Acceptor(std::size_t max_connections);
    ~Acceptor();
    Acceptor(const Acceptor&) = delete;
    Acceptor& operator=(const Acceptor&) = delete;

    // Each server thread's transport, as the reactor clones them when the listener binds. They
    // outlive the accepting: HttpServer::stop stops it before the listener.
    void add_transport(Pistache::Tcp::Transport* transport);

    // After the listener has bound, before it runs.
    void start(Pistache::Tcp::Listener& listener);
    void stop();

    // Raised when the acceptor cannot take one more connection: each server thread then closes some
    // of its idle connections at its next timer tick.
    std::uint64_t drain_requests() const { return drain_requests_; }

private:
    friend struct AcceptedConnection;
    void connection_closed();  // from a connection's thread, as the connection goes
    void wake();
    void run();
    // Accepts what waits, up to the limit; sets waiting_for_descriptors_ when it ran out of them.
    void accept_pending();
    void drain_idle_connections(const std::string& reason);

    const std::size_t max_connections_;
    const int wake_fd_;
    int listen_fd_ = -1;
    std::atomic<std::size_t> open_{0};
    std::atomic<std::uint64_t> drain_requests_{0};
    std::atomic<bool> waiting_for_descriptors_{false};
    std::atomic<bool> stopping_{false};
    std::chrono::steady_clock::time_point last_drain_warning_{};
    std::mutex transports_mutex_;
    std::vector<Pistache::Tcp::Transport*> transports_;
    std::thread thread_;
};

}  // namespace cdb
