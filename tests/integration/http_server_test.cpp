// HttpServer in this process, over real sockets: answers given later (on the request's thread from
// a watched descriptor, or from another thread), and the request timeouts it enforces itself.
#include "cdb/http_server.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include "cdb/server_thread.h"
#include "raw_http.h"
#include "test_processes.h"

namespace cdb::test {
namespace {

using namespace std::chrono_literals;

const std::string get_request = "GET /later HTTP/1.1\r\nHost: t\r\n\r\n";

HttpServerOptions local_options(int port) {
    HttpServerOptions options;
    options.bind = "127.0.0.1";
    options.port = port;
    options.threads = 1;
    options.header_timeout = 300ms;
    options.body_timeout = 300ms;
    return options;
}

// An eventfd that a route watches from its server thread, and signals from elsewhere.
class Signal {
public:
    Signal() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
    ~Signal() { ::close(fd_); }
    int fd() const { return fd_; }
    void raise() const {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto written = ::write(fd_, &one, sizeof one);
    }
    void clear() const {
        std::uint64_t value;
        [[maybe_unused]] auto drained = ::read(fd_, &value, sizeof value);
    }

private:
    int fd_;
};

TEST(HttpServer, AWatchedDescriptorIsServedOnTheThreadOfTheRequestThatWatchedIt) {
    const int port = free_port_block(1);
    Signal signal;  // outlives the server, as watch requires
    std::thread::id request_thread;
    std::thread::id callback_thread;
    Reply pending;
    RouteTable routes;
    routes.exact_async("GET", "/later", [&](const HttpRequest&, Reply reply) {
        request_thread = std::this_thread::get_id();
        ServerThread* server_thread = current_server_thread();
        ASSERT_NE(server_thread, nullptr);
        pending = std::move(reply);
        server_thread->watch(signal.fd(), [&] {
            signal.clear();
            callback_thread = std::this_thread::get_id();
            pending(json_response(200, R"({"later":true})"));
        });
    });
    HttpServer server(local_options(port), std::move(routes));
    server.start();
    EXPECT_EQ(current_server_thread(), nullptr);  // this test's thread is not one of the server's

    RawConnection client(port);
    ASSERT_TRUE(client.connected());
    client.send(get_request.data(), get_request.size(), 1s);
    EXPECT_EQ(client.next_status(200ms), std::nullopt);  // no answer until the signal
    signal.raise();
    EXPECT_EQ(client.next_status(2s), 200);
    EXPECT_NE(client.received().find(R"({"later":true})"), std::string::npos) << client.received();
    EXPECT_EQ(callback_thread, request_thread);
}

TEST(HttpServer, AnAnswerGivenOnAnotherThreadReachesTheClientInOrder) {
    const int port = free_port_block(1);
    std::vector<std::thread> answerers;
    std::atomic<int> answered{0};
    RouteTable routes;
    routes.exact_async("GET", "/later", [&](const HttpRequest&, Reply reply) {
        const int number = answered++;
        answerers.emplace_back([reply = std::move(reply), number] {
            std::this_thread::sleep_for(50ms);
            reply(json_response(200, "{\"number\":" + std::to_string(number) + "}"));
        });
    });
    HttpServer server(local_options(port), std::move(routes));
    server.start();

    RawConnection client(port);
    ASSERT_TRUE(client.connected());
    const std::string two = get_request + get_request;  // pipelined: the second waits for the first
    client.send(two.data(), two.size(), 1s);
    EXPECT_EQ(client.next_status(2s), 200);
    EXPECT_EQ(client.next_status(2s), 200);
    const auto first = client.received().find(R"({"number":0})");
    const auto second = client.received().find(R"({"number":1})");
    EXPECT_NE(first, std::string::npos) << client.received();
    EXPECT_NE(second, std::string::npos) << client.received();
    EXPECT_LT(first, second);
    server.stop();
    for (auto& answerer : answerers) answerer.join();
}

TEST(HttpServer, AnUnfinishedHeadIsAnswered408InJsonSoonAfterTheTimeout) {
    const int port = free_port_block(1);
    RouteTable routes;
    HttpServer server(local_options(port), std::move(routes));
    server.start();
    const RawExchange exchange = raw_exchange(port, "GET /later HTTP/1.1\r\nHost:", 2s);
    EXPECT_EQ(exchange.statuses, std::vector<int>{408});
    EXPECT_TRUE(exchange.closed_by_server);
    EXPECT_NE(exchange.received.find(R"({"error":"the request head did not arrive within 300 ms"})"), std::string::npos)
        << exchange.received;
    // Checked every quarter of the timeout: due by 375 ms, with room for a loaded machine.
    EXPECT_GE(exchange.elapsed, 300ms);
    EXPECT_LT(exchange.elapsed, 300ms * 5 / 4 + 250ms);
}

TEST(HttpServer, AConnectionWaitingForItsAnswerIsNotTimedOut) {
    const int port = free_port_block(1);
    Signal signal;
    Reply pending;
    RouteTable routes;
    routes.exact_async("GET", "/later", [&](const HttpRequest&, Reply reply) {
        pending = std::move(reply);
        current_server_thread()->watch(signal.fd(), [&] {
            signal.clear();
            pending(json_response(200, "{}"));
        });
    });
    HttpServer server(local_options(port), std::move(routes));
    server.start();
    RawConnection client(port);
    client.send(get_request.data(), get_request.size(), 1s);
    EXPECT_EQ(client.next_status(900ms), std::nullopt);  // three times the header timeout
    signal.raise();
    EXPECT_EQ(client.next_status(2s), 200);
}

}  // namespace
}  // namespace cdb::test
