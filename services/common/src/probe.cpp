#include "cdb/probe.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>
#include <string_view>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cdb {
namespace {

using Clock = std::chrono::steady_clock;

// Connecting, sending and reading the answer all share it: a health check that hangs would keep
// the container runtime's check waiting, whichever step hangs.
constexpr std::chrono::milliseconds probe_bound{1000};
// A status line is about 20 bytes; anything longer without its CRLF is not an HTTP answer.
constexpr std::size_t max_status_line_bytes = 256;

class Socket {
public:
    Socket() : descriptor_(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {}
    ~Socket() {
        if (descriptor_ >= 0) ::close(descriptor_);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int descriptor() const { return descriptor_; }

private:
    const int descriptor_;
};

// Until `descriptor` is ready for `events` (or has failed: the next call says how); false once the
// deadline has passed.
bool wait_until_ready(int descriptor, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd entry{descriptor, events, 0};
        const int ready = ::poll(&entry, 1, static_cast<int>(left));
        if (ready > 0) return true;
        if (ready < 0 && errno != EINTR) return true;
    }
}

// The status code of "HTTP/1.x DDD[ reason]", nullopt for anything else.
std::optional<int> status_of(std::string_view line) {
    constexpr std::string_view version = "HTTP/1.";
    if (line.size() < version.size() + 5 || line.substr(0, version.size()) != version) return std::nullopt;
    const auto is_digit = [](char ch) { return ch >= '0' && ch <= '9'; };
    const std::string_view rest = line.substr(version.size());
    if (!is_digit(rest[0]) || rest[1] != ' ' || !is_digit(rest[2]) || !is_digit(rest[3]) || !is_digit(rest[4])) {
        return std::nullopt;
    }
    if (rest.size() > 5 && rest[5] != ' ') return std::nullopt;
    if (rest[2] == '0') return std::nullopt;  // status codes are 100 .. 999
    return (rest[2] - '0') * 100 + (rest[3] - '0') * 10 + (rest[4] - '0');
}

// The path goes into the request line as it is: a space or a control byte would change the request.
bool is_plain_path(const std::string& path) {
    if (path.empty() || path[0] != '/') return false;
    for (const unsigned char ch : path) {
        if (ch <= 0x20 || ch == 0x7f) return false;
    }
    return true;
}

// The answer's status code to `request`, sent to `address` within `bound`, or why there is none in
// `problem`.
std::optional<int> fetch_status(const sockaddr_in& address, const std::string& request, std::chrono::milliseconds bound,
                                std::string& problem) {
    const auto deadline = Clock::now() + bound;
    const auto failed = [&problem](const std::string& what) -> std::optional<int> {
        problem = what;
        return std::nullopt;
    };
    const auto system_error = [&failed](const char* call) { return failed(std::string(call) + ": " + std::strerror(errno)); };

    Socket socket;
    if (socket.descriptor() < 0) return system_error("socket");
    if (::connect(socket.descriptor(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        if (errno != EINPROGRESS) return system_error("connect");
        if (!wait_until_ready(socket.descriptor(), POLLOUT, deadline)) return failed("connect: timed out");
        int error = 0;
        socklen_t length = sizeof error;
        ::getsockopt(socket.descriptor(), SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) return failed(std::string("connect: ") + std::strerror(error));
    }

    for (std::size_t sent = 0; sent < request.size();) {
        if (!wait_until_ready(socket.descriptor(), POLLOUT, deadline)) return failed("send: timed out");
        const ssize_t written =
            ::send(socket.descriptor(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return system_error("send");
        if (written > 0) sent += static_cast<std::size_t>(written);
    }

    std::string received;
    for (;;) {
        if (const auto end = received.find("\r\n"); end != std::string::npos) {
            const auto status = status_of(std::string_view(received).substr(0, end));
            if (!status) return failed("not an HTTP status line: " + received.substr(0, end));
            return status;
        }
        if (received.size() > max_status_line_bytes) return failed("no HTTP status line in the answer");
        if (!wait_until_ready(socket.descriptor(), POLLIN, deadline)) {
            return failed("no answer within " + std::to_string(bound.count()) + " ms");
        }
        char buffer[512];
        const ssize_t got = ::recv(socket.descriptor(), buffer, sizeof buffer, 0);
        if (got == 0) return failed("the connection closed before a status line");
        if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return system_error("recv");
        if (got > 0) received.append(buffer, static_cast<std::size_t>(got));
    }
}

}  // namespace

int run_probe(int port, const std::string& path) {
    if (!is_plain_path(path)) {
        std::cerr << "probe: " << path << " is not a path (it starts with / and has no spaces)\n";
        return 1;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                                "\r\nConnection: close\r\n\r\n";
    std::string problem;
    const auto status = fetch_status(address, request, probe_bound, problem);
    if (!status) {
        std::cerr << "probe " << path << ": " << problem << '\n';
        return 1;
    }
    if (*status < 200 || *status >= 300) {
        std::cerr << "probe " << path << ": HTTP " << *status << '\n';
        return 1;
    }
    return 0;
}

std::optional<int> put_json(const sockaddr_in& address, const std::string& path, const std::string& body,
                            std::chrono::milliseconds bound, std::string& problem) {
    if (!is_plain_path(path)) {
        problem = path + " is not a path";
        return std::nullopt;
    }
    char host[INET_ADDRSTRLEN] = "";
    ::inet_ntop(AF_INET, &address.sin_addr, host, sizeof host);
    const std::string request = "PUT " + path + " HTTP/1.1\r\nHost: " + host + ":" +
                                std::to_string(ntohs(address.sin_port)) +
                                "\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    return fetch_status(address, request, bound, problem);
}

}  // namespace cdb
