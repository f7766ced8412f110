#include "acceptor.h"

#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pistache_private.h"

namespace cdb {

using namespace Pistache;

// Tags for ExposePrivateMember: at namespace scope, where its friend functions are defined.
struct ListenerDescriptor {
    using type = int Tcp::Listener::*;
    friend type member_pointer(ListenerDescriptor);
};
template struct ExposePrivateMember<ListenerDescriptor, &Tcp::Listener::listen_fd>;
struct ListenerPoller {
    using type = Polling::Epoll Tcp::Listener::*;
    friend type member_pointer(ListenerPoller);
};
template struct ExposePrivateMember<ListenerPoller, &Tcp::Listener::poller>;

// Part of an accepted peer's data: counts its connection out when the peer goes.
struct AcceptedConnection {
    explicit AcceptedConnection(std::shared_ptr<Acceptor> acceptor) : acceptor(std::move(acceptor)) {}
    ~AcceptedConnection() { acceptor->connection_closed(); }
    const std::shared_ptr<Acceptor> acceptor;
};

Acceptor::Acceptor(std::size_t max_connections)
    : max_connections_(max_connections), wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (wake_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

Acceptor::~Acceptor() {
    stop();
    ::close(wake_fd_);
}

void Acceptor::add_transport(Tcp::Transport* transport) {
    std::lock_guard<std::mutex> lock(transports_mutex_);
    transports_.push_back(transport);
}

void Acceptor::start(Tcp::Listener& listener) {
    listen_fd_ = listener.*member_pointer(ListenerDescriptor{});
    (listener.*member_pointer(ListenerPoller{})).removeFd(listen_fd_);
    thread_ = std::thread([this] { run(); });
}

void Acceptor::stop() {
    stopping_ = true;
    wake();
    if (thread_.joinable()) thread_.join();
}

void Acceptor::connection_closed() {
    if (open_.fetch_sub(1) >= max_connections_ || waiting_for_descriptors_) wake();
}

void Acceptor::wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
}

void Acceptor::run() {
    while (!stopping_) {
        // Out of descriptors: the socket is not polled for 100 ms, or until a connection closes.
        const bool room = open_ < max_connections_ && !waiting_for_descriptors_;
        pollfd descriptors[2] = {{wake_fd_, POLLIN, 0}, {listen_fd_, static_cast<short>(room ? POLLIN : 0), 0}};
        const int ready = ::poll(descriptors, 2, waiting_for_descriptors_ ? 100 : -1);
        if (ready < 0 && errno != EINTR) {
            spdlog::error("accepting connections: poll: {}", std::strerror(errno));
            return;
        }
        if (descriptors[0].revents & POLLIN) {
            std::uint64_t wakes;
            [[maybe_unused]] auto drained = ::read(wake_fd_, &wakes, sizeof wakes);
        }
        if (ready == 0 || (descriptors[0].revents & POLLIN)) waiting_for_descriptors_ = false;
        if (descriptors[1].revents & POLLIN) accept_pending();
    }
}

void Acceptor::accept_pending() {
    for (int accepted = 0; accepted < 64; ++accepted) {
        if (open_ >= max_connections_) {
            drain_idle_connections("the limit of " + std::to_string(max_connections_) + " connections");
            return;
        }
        sockaddr_storage address{};
        socklen_t length = sizeof address;
        const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                waiting_for_descriptors_ = true;
                drain_idle_connections(std::string("accept: ") + std::strerror(errno));
                return;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) spdlog::warn("accept: {}", std::strerror(errno));
            return;
        }
        auto peer = Tcp::Peer::Create(fd, Address::fromUnix(reinterpret_cast<sockaddr*>(&address)));
        ++open_;
        // Goes with the peer, whichever way the connection ends, and counts it out then.
        peer->putData("cdb.accepted", std::make_shared<AcceptedConnection>(shared_from_this()));
        std::lock_guard<std::mutex> lock(transports_mutex_);
        if (transports_.empty()) continue;  // stopping: the peer closes its descriptor as it goes
        transports_[static_cast<std::size_t>(fd) % transports_.size()]->handleNewPeer(peer);
    }
}

void Acceptor::drain_idle_connections(const std::string& reason) {
    ++drain_requests_;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_drain_warning_ > std::chrono::seconds(10)) {
        last_drain_warning_ = now;
        spdlog::warn("not accepting connections ({} open): {}; closing idle ones", open_.load(), reason);
    }
}

}  // namespace cdb
