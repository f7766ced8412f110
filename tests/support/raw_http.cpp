#include "raw_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "test_processes.h"

namespace cdb::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto trickle_step = std::chrono::milliseconds(20);

// The statuses of the complete responses at the start of `text` (Content-Length framed, as ours are).
std::vector<int> complete_statuses(const std::string& text) {
    std::vector<int> statuses;
    std::size_t at = 0;
    while (true) {
        const auto head_end = text.find("\r\n\r\n", at);
        if (head_end == std::string::npos || text.compare(at, 9, "HTTP/1.1 ") != 0) return statuses;
        std::string head = text.substr(at, head_end - at);
        std::transform(head.begin(), head.end(), head.begin(), [](unsigned char ch) { return std::tolower(ch); });
        const auto length_at = head.find("\r\ncontent-length:");
        const std::size_t length = length_at == std::string::npos ? 0 : std::stoul(head.substr(length_at + 17));
        if (text.size() < head_end + 4 + length) return statuses;
        statuses.push_back(std::stoi(head.substr(9, 3)));
        at = head_end + 4 + length;
    }
}

}  // namespace

RawConnection::RawConnection(int port, std::optional<int> receive_buffer) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    const int on = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (receive_buffer) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &*receive_buffer, sizeof *receive_buffer);
    sockaddr_in address = loopback_sockaddr(port);
    // Bounded: a server whose accept queue is full leaves a blocking connect retrying SYNs for minutes.
    const int flags = ::fcntl(fd_, F_GETFL);
    ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        connected_ = true;
    } else if (errno == EINPROGRESS) {
        pollfd writable{fd_, POLLOUT, 0};
        int error = 0;
        socklen_t length = sizeof error;
        connected_ = ::poll(&writable, 1, 1000) == 1 &&
                     ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0;
    }
    ::fcntl(fd_, F_SETFL, flags);
}

RawConnection::~RawConnection() { ::close(fd_); }

void RawConnection::send(const char* bytes, std::size_t size, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (size > 0 && Clock::now() < deadline) {
        pollfd writable{fd_, POLLOUT, 0};
        if (::poll(&writable, 1, 20) <= 0) continue;
        const ssize_t sent = ::send(fd_, bytes, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return;
        if (sent > 0) {
            bytes += sent;
            size -= static_cast<std::size_t>(sent);
        }
    }
}

bool RawConnection::receive(std::chrono::milliseconds timeout) {
    pollfd readable{fd_, POLLIN, 0};
    if (::poll(&readable, 1, static_cast<int>(timeout.count())) <= 0) return true;
    char buffer[65536];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) received_.append(buffer, static_cast<std::size_t>(n));
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

std::optional<int> RawConnection::next_status(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    auto statuses = complete_statuses(received_);
    while (statuses.size() <= statuses_taken_ && Clock::now() < deadline) {
        if (!receive(std::chrono::milliseconds(20))) break;
        statuses = complete_statuses(received_);
    }
    if (statuses.size() <= statuses_taken_) return std::nullopt;
    return statuses[statuses_taken_++];
}

RawExchange raw_exchange(int port, const std::string& bytes, std::chrono::milliseconds wait, Pace pace,
                         std::optional<std::size_t> responses) {
    RawExchange exchange;
    RawConnection connection(port);
    if (!connection.connected()) return exchange;
    const auto started = Clock::now();
    const auto deadline = started + wait;
    const auto awaited = [&] { return responses && exchange.statuses.size() >= *responses; };
    std::size_t trickle_from = bytes.size();
    if (pace == Pace::byte_by_byte) trickle_from = 0;
    if (pace == Pace::body_byte_by_byte) trickle_from = std::min(bytes.size(), bytes.find("\r\n\r\n") + 4);
    connection.send(bytes.data(), trickle_from, wait);
    std::size_t next = trickle_from;
    while (Clock::now() < deadline && !awaited()) {
        if (next < bytes.size()) connection.send(&bytes[next++], 1, trickle_step);
        if (!connection.receive(next < bytes.size() ? trickle_step : std::chrono::milliseconds(20))) {
            exchange.closed_by_server = true;
            break;
        }
        exchange.statuses = complete_statuses(connection.received());
    }
    exchange.received = connection.received();
    exchange.statuses = complete_statuses(exchange.received);
    exchange.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    return exchange;
}

long resident_kib(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return 0;
}

}  // namespace cdb::test
