// The LB's upstream loop against scripted loopback servers: every way a slave can answer, fail to
// answer, or vanish, over real sockets.
#include "upstream_loop.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "test_processes.h"
#include "unanswered_port.h"

namespace cdb::test {
namespace {

using namespace std::chrono_literals;
using lb::DrivenUpstreamLoop;
using lb::UpstreamCall;
using lb::UpstreamFailure;
using lb::UpstreamLimits;
using lb::UpstreamLoop;
using lb::UpstreamOutcome;

lb::SocketAddress loopback_address(int port) {
    sockaddr_in address = loopback_sockaddr(port);
    return lb::SocketAddress(reinterpret_cast<const sockaddr&>(address), sizeof address);
}

// Accepts connections one at a time and lets `respond` act on each request it reads (headers and a
// Content-Length body): answer, close, or keep quiet.
class ScriptedSlave {
public:
    // Returns false to close the connection after acting.
    using Respond = std::function<bool(int fd, const std::string& request)>;

    explicit ScriptedSlave(Respond respond) : respond_(std::move(respond)) {
        port_ = free_port_block(1);
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        const int yes = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        sockaddr_in address = loopback_sockaddr(port_);
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 16) != 0) {
            throw std::runtime_error("cannot listen on " + std::to_string(port_));
        }
        thread_ = std::thread([this] { serve(); });
    }
    ~ScriptedSlave() {
        stopping_ = true;
        thread_.join();
        ::close(listener_);
    }
    int port() const { return port_; }
    int connections() const { return connections_; }

private:
    bool readable(int fd) const {
        pollfd watched{fd, POLLIN, 0};
        return ::poll(&watched, 1, 20) > 0;
    }
    void serve() {
        while (!stopping_) {
            if (!readable(listener_)) continue;
            const int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0) continue;
            ++connections_;
            std::string buffer;
            bool open = true;
            while (open && !stopping_) {
                if (!readable(fd)) continue;
                char chunk[4096];
                const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
                if (got <= 0) break;
                buffer.append(chunk, static_cast<std::size_t>(got));
                const auto end = buffer.find("\r\n\r\n");
                if (end == std::string::npos) continue;
                std::size_t length = 0;
                if (auto at = buffer.find("Content-Length: "); at != std::string::npos && at < end) {
                    length = std::stoul(buffer.substr(at + 16));
                }
                if (buffer.size() < end + 4 + length) continue;
                const std::string request = buffer.substr(0, end + 4 + length);
                buffer.erase(0, request.size());
                open = respond_(fd, request);
            }
            ::close(fd);
        }
    }

    Respond respond_;
    int port_ = 0;
    int listener_ = -1;
    std::atomic<bool> stopping_{false};
    std::atomic<int> connections_{0};
    std::thread thread_;
};

void send_all(int fd, const std::string& bytes) { ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL); }

const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";

UpstreamLimits short_limits() {
    UpstreamLimits limits;
    limits.connect = 200ms;
    limits.total = 400ms;
    return limits;
}

// Submits one call and waits for its outcome.
UpstreamOutcome call(UpstreamLoop& loop, int port, const std::string& request = "GET /get/a HTTP/1.1\r\nHost: t\r\n\r\n",
                     std::optional<std::chrono::milliseconds> deadline = std::nullopt) {
    auto outcome = std::make_shared<std::promise<UpstreamOutcome>>();
    auto answered = outcome->get_future();
    UpstreamCall call;
    call.slave = 0;
    call.address = loopback_address(port);
    call.request = request;
    call.deadline = deadline;
    call.done = [outcome](UpstreamOutcome result) { outcome->set_value(std::move(result)); };
    loop.submit(std::move(call));
    if (answered.wait_for(5s) != std::future_status::ready) throw std::runtime_error("no outcome within 5 s");
    return answered.get();
}

TEST(UpstreamLoop, ReusesOneConnectionForCallsInSequence) {
    ScriptedSlave slave([](int fd, const std::string&) {
        send_all(fd, ok);
        return true;
    });
    DrivenUpstreamLoop driven(short_limits());
    UpstreamLoop& loop = driven.loop();
    for (int i = 0; i < 5; ++i) {
        const UpstreamOutcome outcome = call(loop, slave.port());
        ASSERT_TRUE(outcome.response) << outcome.problem;
        EXPECT_EQ(outcome.response->status, 200);
        EXPECT_EQ(outcome.response->body, "{}");
    }
    EXPECT_EQ(slave.connections(), 1);
}

TEST(UpstreamLoop, ReadsAnAnswerThatArrivesInPieces) {
    ScriptedSlave slave([](int fd, const std::string&) {
        for (char byte : ok) {
            send_all(fd, std::string(1, byte));
            std::this_thread::sleep_for(1ms);  // separate segments, each read on its own
        }
        return true;
    });
    DrivenUpstreamLoop driven(short_limits());
    UpstreamLoop& loop = driven.loop();
    const UpstreamOutcome outcome = call(loop, slave.port());
    ASSERT_TRUE(outcome.response) << outcome.problem;
    EXPECT_EQ(outcome.response->body, "{}");
}

TEST(UpstreamLoop, SendsABodyWhole) {
    const std::string body(300 * 1024, 'v');  // more than a socket buffer takes at once
    std::string received;
    ScriptedSlave slave([&](int fd, const std::string& request) {
        received = request;
        send_all(fd, ok);
        return true;
    });
    DrivenUpstreamLoop driven(short_limits());
    UpstreamLoop& loop = driven.loop();
    const std::string request =
        "POST /set HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    const UpstreamOutcome outcome = call(loop, slave.port(), request);
    ASSERT_TRUE(outcome.response) << outcome.problem;
    EXPECT_EQ(received, request);
}

TEST(UpstreamLoop, AClosedConnectionIsNotReusedAndItsSlaveIsReachedAgain) {
    ScriptedSlave slave([](int fd, const std::string&) {
        send_all(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}");
        return false;
    });
    DrivenUpstreamLoop driven(short_limits());
    UpstreamLoop& loop = driven.loop();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(call(loop, slave.port()).response);
    EXPECT_EQ(slave.connections(), 3);
}

TEST(UpstreamLoop, ARefusedConnectionNeverArrived) {
    const int nobody = free_port_block(1);
    DrivenUpstreamLoop driven(short_limits());
    UpstreamLoop& loop = driven.loop();
    const UpstreamOutcome outcome = call(loop, nobody);
    EXPECT_EQ(outcome.failure, UpstreamFailure::no_connection);
    EXPECT_TRUE(outcome.never_arrived());
}

TEST(UpstreamLoop, AConnectionThatNeverCompletesTimesOutAtTheConnectLimit) {
    const int port = free_port_block(1);
    UnansweredPort unanswered(port);
    ASSERT_TRUE(unanswered.bound());
    DrivenUpstreamLoop driven(short_limits());
    UpstreamLoop& loop = driven.loop();
    const UpstreamOutcome outcome = call(loop, port);
    EXPECT_EQ(outcome.failure, UpstreamFailure::connect_timeout);
    EXPECT_TRUE(outcome.never_arrived());
    EXPECT_GE(outcome.elapsed, 200ms);
    EXPECT_LT(outcome.elapsed, 350ms);
}

TEST(UpstreamLoop, ASilentSlaveCostsTheTotalLimitAndMayHaveActed) {
    ScriptedSlave slave([](int, const std::string&) { return true; });  // reads, never answers
    DrivenUpstreamLoop driven(short_limits());
    UpstreamLoop& loop = driven.loop();
    const UpstreamOutcome outcome = call(loop, slave.port());
    EXPECT_EQ(outcome.failure, UpstreamFailure::timed_out);
    EXPECT_FALSE(outcome.never_arrived());
    EXPECT_GE(outcome.elapsed, 400ms);
    EXPECT_LT(outcome.elapsed, 550ms);
}

// A read's per-try deadline (http.upstream_try_timeout_ms) replaces the total limit for that call.
TEST(UpstreamLoop, ACallsOwnDeadlineCutsASilentSlaveShort) {
    ScriptedSlave slave([](int, const std::string&) { return true; });  // reads, never answers
    DrivenUpstreamLoop driven(short_limits());
    const UpstreamOutcome outcome = call(driven.loop(), slave.port(), "GET /get/a HTTP/1.1\r\nHost: t\r\n\r\n", 100ms);
    EXPECT_EQ(outcome.failure, UpstreamFailure::timed_out);
    EXPECT_EQ(outcome.problem, "no answer within 100 ms");
    EXPECT_GE(outcome.elapsed, 100ms);
    EXPECT_LT(outcome.elapsed, 250ms);
}

TEST(UpstreamLoop, ASlaveClosingMidAnswerGivesNoAnswer) {
    ScriptedSlave slave([](int fd, const std::string&) {
        send_all(fd, ok.substr(0, 20));
        return false;
    });
    DrivenUpstreamLoop driven(short_limits());
    UpstreamLoop& loop = driven.loop();
    const UpstreamOutcome outcome = call(loop, slave.port());
    EXPECT_EQ(outcome.failure, UpstreamFailure::no_answer);
    EXPECT_EQ(outcome.problem, "connection closed in the middle of the response");
}

TEST(UpstreamLoop, AGarbledAnswerIsABadAnswer) {
    ScriptedSlave slave([](int fd, const std::string&) {
        send_all(fd, "SSH-2.0-OpenSSH\r\n\r\n");
        return true;
    });
    DrivenUpstreamLoop driven(short_limits());
    UpstreamLoop& loop = driven.loop();
    EXPECT_EQ(call(loop, slave.port()).failure, UpstreamFailure::bad_answer);
}

TEST(UpstreamLoop, StoppingAnswersCallsInFlightAndRefusesNewOnes) {
    ScriptedSlave slave([](int, const std::string&) { return true; });
    DrivenUpstreamLoop driven(short_limits());
    UpstreamLoop& loop = driven.loop();
    std::promise<UpstreamOutcome> in_flight;
    UpstreamCall pending;
    pending.address = loopback_address(slave.port());
    pending.request = "GET /get/a HTTP/1.1\r\nHost: t\r\n\r\n";
    pending.done = [&](UpstreamOutcome outcome) { in_flight.set_value(std::move(outcome)); };
    loop.submit(std::move(pending));
    ASSERT_TRUE(wait_until([&] { return slave.connections() == 1; }, 2000ms));
    loop.stop();
    auto stopped = in_flight.get_future();
    ASSERT_EQ(stopped.wait_for(0s), std::future_status::ready);
    EXPECT_EQ(stopped.get().problem, "the load balancer is stopping");
    EXPECT_EQ(call(loop, slave.port()).failure, UpstreamFailure::overloaded);
}

// Holds every answer back until all `expected` requests have arrived, then writes them all at once:
// they wait together in the kernel, as answers do behind a busy LB thread.
class AnswersAllAtOnce {
public:
    AnswersAllAtOnce(int expected, std::string answer) : expected_(expected), answer_(std::move(answer)) {
        port_ = free_port_block(1);
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        const int yes = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        sockaddr_in address = loopback_sockaddr(port_);
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, expected) != 0) {
            throw std::runtime_error("cannot listen on " + std::to_string(port_));
        }
        thread_ = std::thread([this] { serve(); });
    }
    ~AnswersAllAtOnce() {
        thread_.join();
        for (int fd : connections_) ::close(fd);
        ::close(listener_);
    }
    int port() const { return port_; }
    bool all_asked() const { return asked_; }
    void answer() { go_ = true; }
    bool all_answered() const { return answered_; }

private:
    void serve() {
        const auto give_up = std::chrono::steady_clock::now() + 5s;
        while (static_cast<int>(connections_.size()) < expected_ && std::chrono::steady_clock::now() < give_up) {
            pollfd waiting{listener_, POLLIN, 0};
            if (::poll(&waiting, 1, 20) <= 0) continue;
            const int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0) continue;
            std::string request;
            while (request.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < give_up) {
                pollfd readable{fd, POLLIN, 0};
                if (::poll(&readable, 1, 20) <= 0) continue;
                char chunk[1024];
                const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
                if (got <= 0) break;
                request.append(chunk, static_cast<std::size_t>(got));
            }
            connections_.push_back(fd);
        }
        asked_ = static_cast<int>(connections_.size()) == expected_;
        while (!go_ && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
        for (int fd : connections_) send_all(fd, answer_);
        answered_ = true;
    }

    const int expected_;
    const std::string answer_;
    int port_ = 0;
    int listener_ = -1;
    std::vector<int> connections_;
    std::atomic<bool> asked_{false};
    std::atomic<bool> go_{false};
    std::atomic<bool> answered_{false};
    std::thread thread_;
};

// Answers completed in one turn wait together until the turn hands them on; a turn that read
// hundreds of large answers held them all (129 MiB in the LB, LbTest.ClientsThatNeverRead...).
TEST(UpstreamLoop, ATurnHoldsNoMoreAnswerBytesThanItsLimit) {
    constexpr int calls = 48;
    constexpr std::size_t body_bytes = 64 * 1024;
    AnswersAllAtOnce slave(calls, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body_bytes) + "\r\n\r\n" +
                                      std::string(body_bytes, 'v'));
    UpstreamLimits limits;
    limits.total = 5s;
    limits.max_answer_bytes_per_turn = 256 * 1024;
    UpstreamLoop loop(limits);
    loop.drive_from_this_thread();
    std::vector<std::size_t> answered_in_turn{0};
    int answered = 0;
    for (int i = 0; i < calls; ++i) {
        UpstreamCall call;
        call.address = loopback_address(slave.port());
        call.request = "GET /get/big HTTP/1.1\r\nHost: t\r\n\r\n";
        call.done = [&](UpstreamOutcome outcome) {
            ASSERT_TRUE(outcome.response) << outcome.problem;
            EXPECT_EQ(outcome.response->body.size(), body_bytes);
            answered_in_turn.back() += outcome.response->body.size();
            ++answered;
        };
        loop.submit(std::move(call));
    }
    // Connects and sends every request; then every answer arrives while the loop waits for its turn.
    ASSERT_TRUE(wait_until([&] {
        loop.run_ready();
        return slave.all_asked();
    }, 5000ms));
    slave.answer();
    ASSERT_TRUE(wait_until([&] { return slave.all_answered(); }, 5000ms));
    ASSERT_EQ(answered, 0);
    ASSERT_TRUE(wait_until([&] {
        pollfd ready{loop.descriptor(), POLLIN, 0};
        if (::poll(&ready, 1, 20) > 0) {
            answered_in_turn.push_back(0);
            loop.run_ready();
        }
        return answered == calls;
    }, 5000ms));
    const std::size_t most = *std::max_element(answered_in_turn.begin(), answered_in_turn.end());
    EXPECT_LE(most, limits.max_answer_bytes_per_turn + body_bytes);
    EXPECT_GT(answered_in_turn.size(), 2u);  // the turns were cut, and every answer came in one
    loop.stop();
}

TEST(UpstreamClient, RefusesACallFromOutsideTheServerThreadsInsteadOfLeavingItWithoutADriver) {
    lb::UpstreamClient client(short_limits(), 1);
    std::optional<UpstreamOutcome> refused;
    UpstreamCall call;
    call.address = loopback_address(free_port_block(1));
    call.request = "GET /get/a HTTP/1.1\r\nHost: t\r\n\r\n";
    call.done = [&](UpstreamOutcome outcome) { refused = std::move(outcome); };
    client.submit(std::move(call));
    ASSERT_TRUE(refused);  // at once, on this thread
    EXPECT_EQ(refused->failure, UpstreamFailure::overloaded);
    EXPECT_EQ(refused->problem, "internal error: a request was forwarded from outside the server's threads");
    client.stop();
}

}  // namespace
}  // namespace cdb::test
