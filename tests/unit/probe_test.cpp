#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cdb/probe.h"

namespace cdb {
namespace {

using Clock = std::chrono::steady_clock;

// A socket listening on a free loopback port; connections wait in its backlog until accepted.
class Listener {
public:
    Listener() : descriptor_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (::bind(descriptor_, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(descriptor_, 8) != 0 ||
            ::getsockname(descriptor_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            ADD_FAILURE() << "cannot listen on 127.0.0.1";
        }
        port_ = ntohs(address.sin_port);
    }
    ~Listener() {
        if (server_.joinable()) server_.join();
        ::close(descriptor_);
    }
    int port() const { return port_; }

    // Accepts one connection, reads its request head and writes `answer`: at once, or a byte per
    // `byte_interval` (a client bounded per read, not in all, would wait for all of it).
    void answer_once(std::string answer, std::chrono::milliseconds byte_interval = std::chrono::milliseconds(0)) {
        server_ = std::thread([this, answer = std::move(answer), byte_interval] {
            const int client = ::accept(descriptor_, nullptr, nullptr);
            if (client < 0) return;
            std::string request;
            char buffer[1024];
            while (request.find("\r\n\r\n") == std::string::npos) {
                const ssize_t got = ::recv(client, buffer, sizeof buffer, 0);
                if (got <= 0) break;
                request.append(buffer, static_cast<std::size_t>(got));
            }
            if (byte_interval.count() == 0) {
                ::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
            } else {
                for (const char byte : answer) {
                    if (::send(client, &byte, 1, MSG_NOSIGNAL) != 1) break;
                    std::this_thread::sleep_for(byte_interval);
                }
            }
            ::close(client);
        });
    }

private:
    int descriptor_;
    int port_ = 0;
    std::thread server_;
};

struct Outcome {
    int status;
    std::chrono::milliseconds took;
};

Outcome probe(int port, const std::string& path = "/healthz") {
    const auto start = Clock::now();
    const int status = run_probe(port, path);
    return {status, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)};
}

TEST(Probe, PassesOn2xx) {
    Listener server;
    server.answer_once("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(probe(server.port()).status, 0);
}

TEST(Probe, FailsOnAnyOtherStatus) {
    Listener server;
    server.answer_once("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    EXPECT_NE(probe(server.port()).status, 0);
}

TEST(Probe, GivesUpWithinOneSecondOnAServerThatNeverAnswers) {
    Listener server;  // accepts nothing: the connection completes in the backlog, no answer comes
    const auto outcome = probe(server.port());
    EXPECT_NE(outcome.status, 0);
    EXPECT_GE(outcome.took.count(), 900);
    EXPECT_LT(outcome.took.count(), 1500);
}

TEST(Probe, TheSecondIsForTheWholeExchangeNotPerRead) {
    Listener server;
    server.answer_once("HTTP/1.1 200 OK\r\n\r\n", std::chrono::milliseconds(100));  // 1.9 s in all
    const auto outcome = probe(server.port());
    EXPECT_NE(outcome.status, 0);
    EXPECT_LT(outcome.took.count(), 1500);
}

TEST(Probe, RefusesWhatIsNotAStatusLine) {
    for (const std::string answer : {"200 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n",
                                     "HTTP/2 200\r\n\r\n", "hello\r\n", "HTTP/1.1 099 Low\r\n\r\n"}) {
        Listener server;
        server.answer_once(answer);
        EXPECT_NE(probe(server.port()).status, 0) << answer;
    }
}

TEST(Probe, FailsAtOnceWhenNothingListens) {
    int port = 0;
    {
        Listener closed;
        port = closed.port();
    }
    const auto outcome = probe(port);
    EXPECT_NE(outcome.status, 0);
    EXPECT_LT(outcome.took.count(), 500);
}

TEST(Probe, RefusesAPathThatWouldChangeTheRequest) {
    Listener server;
    EXPECT_NE(probe(server.port(), "/healthz HTTP/1.0\r\nX: y").status, 0);
    EXPECT_NE(probe(server.port(), "healthz").status, 0);
}

}  // namespace
}  // namespace cdb
