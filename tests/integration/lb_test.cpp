// The whole system as local processes: the LB in front of real slaves and real redis-server.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cdb/control_key.h"
#include "cdb/protocol.h"
#include "local_system.h"
#include "raw_http.h"
#include "unanswered_port.h"

namespace cdb::test {
namespace {

// Short timeouts keep the failure tests fast; they are still far above loopback latencies.
const std::map<std::string, std::string> fast_env{
    {"HTTP_UPSTREAM_TIMEOUT_MS", "500"}, {"HTTP_UPSTREAM_CONNECT_TIMEOUT_MS", "200"},
    {"REDIS_COMMAND_TIMEOUT_MS", "300"}, {"REDIS_CONNECT_TIMEOUT_MS", "200"},
    {"ELECTION_PROBE_INTERVAL_MS", "100"}, {"LIMITS_MAX_VALUE_BYTES", "1024"}};

// For the load tests that are not about detection speed: the default timing, whose lease has more
// room than fast_env's.
const std::map<std::string, std::string> default_timing_env{{"LIMITS_MAX_VALUE_BYTES", "1024"}};

// The system's own refusals under a stall (a process of a busy 2-core machine that does not run
// for a few hundred ms), which the load tests below count apart from the failures they are about:
// - the lease's (docs/ELECTION.md, "Leases"): past the lease's margin the slaves refuse data until
//   the next grant (503, or 504 for a write whose answer came after it);
// - the read's try deadline (docs/CONFIG.md, http.upstream_try_timeout_ms): a read that no slave
//   answered within it is refused with 503 and Retry-After.
// 1 run in 15 to 30 of these tests met one, before issue 13's changes and after.
bool refused_under_a_stall(int status, const std::string& body) {
    const bool lease = (status == 503 || status == 504) && body.find("lease") != std::string::npos;
    const bool read_try = status == 503 && body.find("no answer within") != std::string::npos;
    return lease || read_try;
}

std::string key(int i) { return "key-" + std::to_string(i); }

// Writes keys [from, to) through the LB; returns how many were acknowledged.
int write_keys(const LocalSystem& system, int from, int to) {
    int acknowledged = 0;
    for (int i = from; i < to; ++i) acknowledged += system.set(key(i), "value-" + std::to_string(i)) ? 1 : 0;
    return acknowledged;
}

// Keys in [from, to) that do not read back with their value.
std::vector<int> missing_keys(const LocalSystem& system, int from, int to) {
    std::vector<int> missing;
    for (int i = from; i < to; ++i) {
        if (system.get(key(i)) != "value-" + std::to_string(i)) missing.push_back(i);
    }
    return missing;
}

class LbTest : public ::testing::Test {
protected:
    void start(int clusters, std::map<std::string, std::string> env = fast_env) {
        system_ = std::make_unique<LocalSystem>(clusters, std::move(env));
        ASSERT_TRUE(system_->wait_ready(clusters)) << system_->logs();
    }
    // Ready means forwarding; the followers' first sync may still be running, and until it is done
    // a write is acknowledged `degraded`: on the leader only.
    void wait_followers(int count) {
        ASSERT_TRUE(wait_until([&] {
            auto status = system_->status();
            return status.HasMember("followers") && status["followers"].GetInt() == count;
        }, 5000ms)) << system_->logs();
    }
    std::unique_ptr<LocalSystem> system_;
};

TEST_F(LbTest, ServesTheApiAndItsErrors) {
    ASSERT_NO_FATAL_FAILURE(start(3));
    ASSERT_NO_FATAL_FAILURE(wait_followers(2));
    auto http = system_->client();
    ASSERT_TRUE(system_->set("user:1", "Ada"));
    EXPECT_EQ(system_->get("user%3A1"), "Ada");
    EXPECT_TRUE(wait_until([&] {  // one WAIT window may be missed on a loaded machine: "degraded"
        return http.Post("/set", R"({"key":"k","value":"v"})", "application/json")->get_header_value("X-Replication") ==
               "synced";
    }, 5000ms));
    auto listed = http.Get("/list-keys?pattern=user%3A*");
    ASSERT_TRUE(listed);
    EXPECT_EQ(listed->body, R"({"keys":["user:1"],"cursor":"0"})");
    EXPECT_EQ(http.Delete("/delete/user%3A1")->status, 200);
    EXPECT_EQ(http.Get("/get/user%3A1")->status, 404);
    EXPECT_EQ(http.Post("/set", "{bad", "application/json")->status, 400);
    EXPECT_EQ(http.Post("/set", R"({"key":"k","value":")" + std::string(2000, 'v') + "\"}", "application/json")->status,
              413);
    auto not_allowed = http.Put("/get/k", "", "application/json");
    EXPECT_EQ(not_allowed->status, 405);
    EXPECT_EQ(not_allowed->get_header_value("Allow"), "GET");
    EXPECT_EQ(http.Get("/nowhere")->status, 404);
    // A key that is not a string (written behind the API's back) is the slave's 409, passed through.
    ASSERT_TRUE(system_->redis(system_->leader()).command({"LPUSH", "a-list", "x"}).integer());
    auto not_a_string = http.Get("/get/a-list");
    EXPECT_EQ(not_a_string->status, 409) << not_a_string->body;
    EXPECT_NE(not_a_string->body.find("cannot read"), std::string::npos);
    EXPECT_EQ(http.Get("/lb/healthz")->status, 200);
    auto metrics = http.Get("/lb/metrics");
    EXPECT_NE(metrics->body.find(R"(lb_requests_total{route="set",status="200"})"), std::string::npos);
    EXPECT_NE(metrics->body.find("lb_upstream_latency_seconds_bucket"), std::string::npos);
    EXPECT_NE(metrics->body.find(R"(lb_elections_total{reason="initial"} 1)"), std::string::npos);
    auto status = system_->status();
    EXPECT_EQ(status["leader"].GetInt(), 0);
    EXPECT_EQ(status["followers"].GetInt(), 2);
    EXPECT_EQ(status["clusters"].GetArray().Size(), 3u);
}

TEST_F(LbTest, NoClientRequestFailsWhenAFollowerClusterDies) {
    ASSERT_NO_FATAL_FAILURE(start(3));
    ASSERT_EQ(write_keys(*system_, 0, 30), 30);
    const int follower = system_->leader() == 2 ? 1 : 2;
    system_->kill_cluster(follower);
    // Right after the kill the LB still counts the dead slave as ready: retries must hide it.
    int failed = 0;
    for (int round = 0; round < 30; ++round) {
        failed += system_->set(key(100 + round), "value-" + std::to_string(100 + round)) ? 0 : 1;
        failed += system_->get(key(round)) ? 0 : 1;
    }
    EXPECT_EQ(failed, 0) << system_->logs();
    EXPECT_TRUE(system_->wait_ready(2)) << system_->logs();
    EXPECT_TRUE(system_->client().Get("/lb/healthz"));
}

// Answers are written after the handler returned, once a slave has answered: each must reach the
// client that asked, on kept-alive connections and on connections that close after one answer alike.
TEST_F(LbTest, EveryClientGetsTheAnswerToItsOwnRequest) {
    ASSERT_NO_FATAL_FAILURE(start(3, default_timing_env));
    std::atomic<int> wrong{0};
    std::vector<std::thread> clients;
    for (int client = 0; client < 8; ++client) {
        clients.emplace_back([&, client] {
            auto http = system_->client();
            http.set_keep_alive(client % 2 == 0);
            for (int i = 0; i < 100; ++i) {
                const std::string name = "own-" + std::to_string(client) + "-" + std::to_string(i);
                auto set = http.Post("/set", R"({"key":")" + name + R"(","value":")" + name + "\"}", "application/json");
                if (set && refused_under_a_stall(set->status, set->body)) continue;
                auto got = http.Get("/get/" + name);
                if (got && refused_under_a_stall(got->status, got->body)) continue;
                const bool right = set && set->status == 200 && got && got->status == 200 &&
                                   got->body == R"({"key":")" + name + R"(","value":")" + name + "\"}";
                wrong += right ? 0 : 1;
            }
        });
    }
    for (auto& client : clients) client.join();
    EXPECT_EQ(wrong, 0) << system_->logs();
}

TEST_F(LbTest, ARequestSentInPiecesRightAfterAnAnswerIsReadWhole) {
    // Input that arrives while an answer is pending waits, and is parsed once the answer is out. A
    // request's first piece may wait for that while its next piece is read: make chaos saw two such
    // writes refused as malformed (400) until the pieces kept their order.
    ASSERT_NO_FATAL_FAILURE(start(3, default_timing_env));
    std::atomic<int> wrong{0};
    std::vector<std::thread> clients;
    for (int client = 0; client < 8; ++client) {
        clients.emplace_back([&, client] {
            RawConnection connection(system_->lb_port());  // each piece its own segment
            int answered = 0;
            while (answered < 300 && connection.connected()) {
                const std::string body = R"({"key":"piece-)" + std::to_string(client) + "-" +
                                         std::to_string(answered) + R"(","value":"v"})";
                const std::string head = "POST /set HTTP/1.1\r\nHost: lb\r\nContent-Type: application/json\r\n";
                const std::string length = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
                for (const std::string& piece : {head, length, body}) connection.send(piece.data(), piece.size(), 1s);
                const auto status = connection.next_status(3s);
                if (!status) break;
                const std::string& received = connection.received();
                if (*status != 200 && !refused_under_a_stall(*status, received.substr(received.rfind("HTTP/1.1 ")))) break;
                ++answered;
            }
            if (answered < 300) wrong += 1;
        });
    }
    for (auto& client : clients) client.join();
    EXPECT_EQ(wrong, 0) << system_->logs();
}

TEST_F(LbTest, NoClientRequestFailsWhenASlaveIsStopped) {
    ASSERT_NO_FATAL_FAILURE(start(3, default_timing_env));
    std::atomic<int> failed{0};
    std::atomic<int> refused{0};
    std::atomic<int> served{0};
    std::atomic<bool> done{false};
    std::vector<std::thread> clients;  // enough of them that some request is always in flight
    for (int client = 0; client < 8; ++client) {
        clients.emplace_back([&, client] {
            auto http = system_->client();
            for (int i = 0; !done; ++i) {
                const std::string name = key(client * 100000 + i);
                auto set = http.Post("/set", R"({"key":")" + name + R"(","value":"v"})", "application/json");
                if (set && refused_under_a_stall(set->status, set->body)) {
                    ++refused;
                    continue;
                }
                auto got = http.Get("/get/" + name);
                if (got && refused_under_a_stall(got->status, got->body)) {
                    ++refused;
                } else if (set && set->status == 200 && got && got->status == 200) {
                    ++served;
                } else {
                    ++failed;
                }
            }
        });
    }
    std::this_thread::sleep_for(300ms);  // traffic is flowing
    EXPECT_EQ(system_->slave(1).stop(2000ms), 0);  // SIGTERM under traffic: it drains, then exits
    ASSERT_TRUE(system_->wait_ready(2)) << system_->logs();
    done = true;
    for (auto& client : clients) client.join();
    EXPECT_EQ(failed, 0) << system_->logs();
    // A stall is rare and short: most requests are served.
    EXPECT_LT(refused * 20, served) << refused << " refused, " << served << " served\n" << system_->logs();
}

// With sparse traffic (one request now and then), "no request for 200 ms" does not mean that the
// LB stopped routing here: a slave that closed then had the LB's next write sent into its closing
// socket, an unknown outcome (seen in the Compose end-to-end test).
TEST_F(LbTest, AStoppingSlaveLeavesTheLbsRoutingBeforeItCloses) {
    auto env = fast_env;
    env["ELECTION_PROBE_INTERVAL_MS"] = "200";  // the default: three failed probes take 600 ms
    ASSERT_NO_FATAL_FAILURE(start(3, env));
    system_->slave(1).signal(SIGTERM);  // no traffic at all
    bool running_when_ejected = false;
    ASSERT_TRUE(wait_until([&] {
        const auto ready = system_->ready();
        if (std::find(ready.begin(), ready.end(), 1) != ready.end()) return false;
        running_when_ejected = system_->slave(1).running();
        return true;
    }, 3000ms)) << system_->logs();
    EXPECT_TRUE(running_when_ejected) << "slave 1 closed while the LB still routed to it\n" << system_->logs() << system_->slave(1).log();
    EXPECT_EQ(system_->slave(1).wait_exit(2000ms), 0);
    EXPECT_EQ(write_keys(*system_, 0, 20), 20) << system_->logs();
}

TEST_F(LbTest, AWriteWhoseConnectionTimedOutIsRetriedElsewhere) {
    ASSERT_NO_FATAL_FAILURE(start(3));
    system_->slave(2).signal(SIGKILL);
    system_->slave(2).wait_exit(5000ms);
    UnansweredPort unanswered(system_->slave_port(2));
    ASSERT_TRUE(unanswered.bound());
    // The LB still forwards to slave 2 until it is ejected: those writes must land elsewhere.
    int failed = 0;
    for (int i = 0; i < 12; ++i) failed += system_->set(key(i), "value-" + std::to_string(i)) ? 0 : 1;
    EXPECT_EQ(failed, 0) << system_->logs();
    EXPECT_EQ(missing_keys(*system_, 0, 12), std::vector<int>{});
}

TEST_F(LbTest, LeaderRedisDeathElectsANewLeaderAndLosesNoAcknowledgedWrite) {
    ASSERT_NO_FATAL_FAILURE(start(3));
    ASSERT_NO_FATAL_FAILURE(wait_followers(2));
    ASSERT_EQ(write_keys(*system_, 0, 50), 50);
    const int old_leader = system_->leader();
    const long long old_term = system_->term();
    system_->redis(old_leader).kill();
    const auto killed = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_until([&] { return system_->set("after", "failover"); }, 5000ms)) << system_->logs();
    const auto failover = std::chrono::steady_clock::now() - killed;
    EXPECT_LT(failover, 1500ms);
    EXPECT_NE(system_->leader(), old_leader);
    EXPECT_GT(system_->term(), old_term);
    EXPECT_EQ(missing_keys(*system_, 0, 50), std::vector<int>{});
    auto status = system_->status();
    EXPECT_STREQ(status["last_election"]["reason"].GetString(), "leader-failed");

    // The old leader's Redis comes back empty: it must rejoin as a follower, never lead with no data.
    system_->redis(old_leader).start();
    EXPECT_TRUE(wait_until([&] {
        for (const auto& cluster : system_->status()["clusters"].GetArray()) {
            if (cluster["index"].GetInt() == old_leader && cluster.HasMember("redis_role")) {
                return std::string(cluster["redis_role"].GetString()) == "replica";
            }
        }
        return false;
    }, 5000ms)) << system_->logs();
    EXPECT_EQ(missing_keys(*system_, 0, 50), std::vector<int>{});
}

// Issue 16: with the default timeouts a probe of a frozen cluster takes about 1 s (slave 400 ms, then
// Redis 500 ms). Probe rounds waited for it, so three failed rounds took about 2.3 s, and the new
// term reached the forwarders only after one more such round. A round now lasts one probe interval.
TEST_F(LbTest, AFrozenLeaderClusterIsReplacedWithinOneSecond) {
    ASSERT_NO_FATAL_FAILURE(start(3, {{"LIMITS_MAX_VALUE_BYTES", "1024"}}));  // default timeouts
    ASSERT_NO_FATAL_FAILURE(wait_followers(2));
    const int old_leader = system_->leader();
    const long long old_term = system_->term();
    system_->slave(old_leader).signal(SIGSTOP);
    system_->redis(old_leader).pause();
    const auto frozen = std::chrono::steady_clock::now();
    const bool elected = wait_until([&] { return system_->term() > old_term; }, 5000ms);
    const auto detection = std::chrono::steady_clock::now() - frozen;
    system_->redis(old_leader).resume();
    system_->slave(old_leader).signal(SIGCONT);
    ASSERT_TRUE(elected) << system_->logs();
    EXPECT_LT(detection, 1000ms) << std::chrono::duration_cast<std::chrono::milliseconds>(detection).count() << " ms";
    EXPECT_NE(system_->leader(), old_leader);
}

TEST_F(LbTest, LeaderRedisRestartingEmptyAtOnceLosesNothing) {
    // Restarted before the LB notices (the LB is paused meanwhile): the replicas reconnect first, and
    // must not resync from the empty Redis.
    for (const char* mode : {"sync", "async"}) {
        auto env = fast_env;
        env["REPLICATION_MODE"] = mode;
        ASSERT_NO_FATAL_FAILURE(start(3, env));
        ASSERT_NO_FATAL_FAILURE(wait_followers(2));
        ASSERT_EQ(write_keys(*system_, 0, 40), 40);
        ASSERT_TRUE(wait_until([&] {  // async: let the followers catch up before the fault
            auto status = system_->status();
            long long offsets = 0;
            for (const auto& cluster : status["clusters"].GetArray()) {
                if (cluster.HasMember("redis_offset")) offsets += cluster["redis_offset"].GetInt64() > 0 ? 1 : 0;
            }
            return offsets == 3;
        }, 5000ms));
        const int leader = system_->leader();
        system_->lb().signal(SIGSTOP);
        system_->redis(leader).kill();
        system_->redis(leader).start();
        std::this_thread::sleep_for(2500ms);  // replicas retry their master link every second
        system_->lb().signal(SIGCONT);
        ASSERT_TRUE(wait_until([&] { return system_->leader() != leader; }, 5000ms)) << mode << system_->logs();
        EXPECT_STREQ(system_->status()["last_election"]["reason"].GetString(), "leader-lost-data") << mode;
        EXPECT_EQ(missing_keys(*system_, 0, 40), std::vector<int>{}) << mode;
        system_.reset();
    }
}

TEST_F(LbTest, ABlackHoledSlaveCostsAtMostTheTimeout) {
    ASSERT_NO_FATAL_FAILURE(start(3));
    ASSERT_EQ(write_keys(*system_, 0, 5), 5);
    system_->slave(1).signal(SIGSTOP);
    std::chrono::steady_clock::duration slowest{};
    int failed = 0;
    for (int i = 0; i < 12; ++i) {
        const auto started = std::chrono::steady_clock::now();
        failed += system_->get(key(i % 5)) ? 0 : 1;
        slowest = std::max(slowest, std::chrono::steady_clock::now() - started);
    }
    system_->slave(1).signal(SIGCONT);
    EXPECT_EQ(failed, 0);
    EXPECT_LT(slowest, 500ms + 400ms);  // one upstream timeout, then another slave answers
    EXPECT_TRUE(system_->wait_ready(3));
}

// An answer that takes longer than the header timeout (1 s) is still the slave's, or the LB's own
// verdict: never Pistache's 408, which would tell a client that a write it may have made failed.
TEST_F(LbTest, AnAnswerSlowerThanTheHeaderTimeoutIsNotCutShort) {
    auto env = fast_env;
    env["HTTP_UPSTREAM_TIMEOUT_MS"] = "1600";
    ASSERT_NO_FATAL_FAILURE(start(1, env));
    system_->slave(0).signal(SIGSTOP);
    auto http = system_->client();
    http.set_keep_alive(true);
    const auto started = std::chrono::steady_clock::now();
    auto write = http.Post("/set", R"({"key":"slow","value":"v"})", "application/json");
    const auto took = std::chrono::steady_clock::now() - started;
    system_->slave(0).signal(SIGCONT);
    ASSERT_TRUE(write);
    EXPECT_EQ(write->status, 504) << write->body;  // sent, unanswered: the LB cannot know
    EXPECT_NE(write->body.find(R"("outcome":"unknown")"), std::string::npos) << write->body;
    EXPECT_GE(took, 1600ms);
}

TEST_F(LbTest, RestartedLbRecoversLeaderAndTermWithoutAnElection) {
    ASSERT_NO_FATAL_FAILURE(start(3));
    system_->redis(0).kill();  // move the leader off the default so recovery cannot guess it
    ASSERT_TRUE(wait_until([&] { return system_->term() == 2; }, 5000ms)) << system_->logs();
    ASSERT_TRUE(system_->set("before", "restart"));
    const int leader = system_->leader();
    system_->redis(0).start();
    ASSERT_TRUE(system_->wait_ready(3));

    system_->stop_lb();
    system_->start_lb(3);
    ASSERT_TRUE(system_->wait_ready(3)) << system_->logs();
    auto status = system_->status();
    EXPECT_EQ(status["term"].GetInt64(), 2);
    EXPECT_EQ(status["leader"].GetInt(), leader);
    EXPECT_EQ(status["elections"].GetInt64(), 0);
    EXPECT_EQ(system_->get("before"), "restart");
}

TEST_F(LbTest, RescalesInPlaceWithoutLosingWrites) {
    ASSERT_NO_FATAL_FAILURE(start(3));
    ASSERT_EQ(write_keys(*system_, 0, 40), 40);
    system_->start_cluster(3);
    system_->start_cluster(4);
    ASSERT_EQ(system_->resize(5)->status, 202);
    ASSERT_TRUE(system_->wait_ready(5)) << system_->logs();
    ASSERT_EQ(write_keys(*system_, 40, 80), 40);

    ASSERT_EQ(system_->resize(2)->status, 202);
    ASSERT_TRUE(wait_until([&] { return system_->drained() == std::vector<int>{2, 3, 4}; }, 5000ms)) << system_->logs();
    for (int index : {2, 3, 4}) system_->kill_cluster(index);
    ASSERT_TRUE(system_->wait_ready(2)) << system_->logs();
    EXPECT_EQ(missing_keys(*system_, 0, 80), std::vector<int>{});
    EXPECT_EQ(system_->resize(0)->status, 400);
}

TEST_F(LbTest, ScalingDownMovesTheLeaderBeforeItsClusterLeaves) {
    ASSERT_NO_FATAL_FAILURE(start(2));
    system_->redis(0).kill();
    ASSERT_TRUE(wait_until([&] { return system_->leader() == 1; }, 5000ms)) << system_->logs();
    system_->redis(0).start();  // back as a follower of cluster 1
    ASSERT_NO_FATAL_FAILURE(wait_followers(1));
    ASSERT_EQ(write_keys(*system_, 0, 30), 30);
    const long long term = system_->term();

    ASSERT_EQ(system_->resize(1)->status, 202);
    ASSERT_TRUE(wait_until([&] { return system_->drained() == std::vector<int>{1}; }, 5000ms)) << system_->logs();
    EXPECT_EQ(system_->leader(), 0);  // drained means the leadership has left cluster 1
    EXPECT_GT(system_->term(), term);
    system_->kill_cluster(1);
    ASSERT_TRUE(system_->wait_ready(1)) << system_->logs();
    EXPECT_EQ(missing_keys(*system_, 0, 30), std::vector<int>{});
}

// Issue 20: a load of readers and writers, each client writing its own keys and reading each back.
// Counts what the tests below look at: the failures, the system's designed refusals (see
// refused_under_a_stall), and the keys acknowledged.
class WriteReadLoad {
public:
    WriteReadLoad(const LocalSystem& system, int clients) : acknowledged_(static_cast<std::size_t>(clients)) {
        for (int client = 0; client < clients; ++client) {
            threads_.emplace_back([this, &system, client] {
                auto http = system.client();
                for (int i = 0; !done_; ++i) {
                    const int id = 1000000 + client * 100000 + i;
                    auto set = http.Post("/set", R"({"key":")" + key(id) + R"(","value":"value-)" + std::to_string(id) + "\"}",
                                         "application/json");
                    if (set && set->status == 200) acknowledged_[static_cast<std::size_t>(client)].push_back(id);
                    auto got = http.Get("/get/" + key(id));
                    const bool set_counted = count(set);
                    if (count(got) && set_counted) ++served_;
                }
            });
        }
    }
    ~WriteReadLoad() { stop(); }
    void stop() {
        done_ = true;
        for (auto& thread : threads_) {
            if (thread.joinable()) thread.join();
        }
    }
    int served() const { return served_; }
    int failed() const { return failed_; }
    int refused() const { return refused_; }
    // From the first refusal to the last: how long the system refused, whatever the clients' pace.
    std::chrono::milliseconds refusing_for() const {
        if (refused_ == 0) return 0ms;
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(last_refused_ - first_refused_));
    }
    std::string failures() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return failures_;
    }
    // Acknowledged writes whose key does not read back with its value.
    std::vector<int> lost(const LocalSystem& system) const {
        std::vector<int> missing;
        for (const auto& keys : acknowledged_) {
            for (int id : keys) {
                if (system.get(key(id)) != "value-" + std::to_string(id)) missing.push_back(id);
            }
        }
        return missing;
    }
    std::size_t acknowledged() const {
        std::size_t total = 0;
        for (const auto& keys : acknowledged_) total += keys.size();
        return total;
    }

private:
    // True for a 200 (or a read's 404 of a key whose write was refused).
    bool count(const httplib::Result& answer) {
        if (answer && (answer->status == 200 || answer->status == 404)) return true;
        if (answer && refused_under_a_stall(answer->status, answer->body)) {
            const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
            if (refused_++ == 0) first_refused_ = now;
            last_refused_ = now;
            return false;
        }
        ++failed_;
        std::lock_guard<std::mutex> lock(mutex_);
        if (failures_.size() < 2000) {
            failures_ += answer ? std::to_string(answer->status) + " " + answer->body + "\n"
                                : "no answer: " + httplib::to_string(answer.error()) + "\n";
        }
        return false;
    }

    std::atomic<bool> done_{false};
    std::atomic<int> served_{0};
    std::atomic<int> failed_{0};
    std::atomic<int> refused_{0};
    std::atomic<std::int64_t> first_refused_{0};
    std::atomic<std::int64_t> last_refused_{0};
    mutable std::mutex mutex_;
    std::string failures_;
    std::vector<std::vector<int>> acknowledged_;  // per client: only its own thread writes it
    std::vector<std::thread> threads_;
};

std::string last_election_reason(const LocalSystem& system) {
    auto status = system.status();
    if (!status.HasMember("last_election") || !status["last_election"].IsObject()) return "";
    return status["last_election"]["reason"].GetString();
}

// Issue 20: a stopped leader cluster (docker compose stop, a pod deleted) used to take its Redis
// with it, and the LB found out by failing probes: 503 and 504 bursts, an election for a failure.
// Now the slave asks the LB to move the leadership first, and its Redis goes only after that.
TEST_F(LbTest, StoppingTheLeadersClusterMovesTheLeaderBeforeItsRedisGoes) {
    ASSERT_NO_FATAL_FAILURE(start(3, default_timing_env));
    ASSERT_NO_FATAL_FAILURE(wait_followers(2));
    const int old_leader = system_->leader();
    const long long old_term = system_->term();
    WriteReadLoad load(*system_, 16);
    ASSERT_TRUE(wait_until([&] { return load.served() >= 200; }, 10000ms)) << system_->logs();

    EXPECT_EQ(system_->stop_clusters({old_leader}), std::vector<int>{0}) << system_->slave(old_leader).log();
    const int served_at_stop = load.served();
    ASSERT_TRUE(wait_until([&] { return load.served() >= served_at_stop + 300; }, 10000ms)) << system_->logs();
    load.stop();

    EXPECT_NE(system_->leader(), old_leader);
    EXPECT_GT(system_->term(), old_term);
    // A planned move, not a failure found by probes of a dead Redis.
    EXPECT_EQ(last_election_reason(*system_), "leader-drained") << system_->logs();
    EXPECT_EQ(load.failed(), 0) << load.failures() << system_->logs();
    EXPECT_EQ(load.lost(*system_), std::vector<int>{}) << load.acknowledged() << " acknowledged";
    // The move waits for the old leader's leases (docs/ELECTION.md, "Leases"). The LB holds the
    // requests every slave refused for lack of a lease until the new term's grants (they were
    // refused 503 "no lease" for 32-99 ms before): a few writes that were in flight when the old
    // leases ended may still be refused.
    EXPECT_LT(load.refusing_for(), 2000ms) << load.refused() << " refused\n" << system_->logs() << system_->slave(old_leader).log();
    // Without the hold, 67 to 705 requests were refused (4 runs); with it, 1 to 6 (6 runs).
    EXPECT_LT(load.refused(), 30) << system_->logs();
    std::cerr << "[ measured ] " << load.served() << " served, " << load.refused() << " refused (lease) over "
              << load.refusing_for().count() << " ms, " << load.failed() << " failed, " << load.acknowledged()
              << " writes acknowledged, " << load.lost(*system_).size() << " lost\n";
}

// Issue 20: PUT /lb/leave is on the LB's public port. Only a request proven with the control-plane
// key and newer than any the LB accepted for that cluster (and within its window) changes anything.
TEST_F(LbTest, AForgedOrReplayedLeaveRequestChangesNothing) {
    ASSERT_NO_FATAL_FAILURE(start(3));
    const int leader = system_->leader();
    const int follower = (leader + 1) % 3;
    const long long term = system_->term();
    const ControlKey key(test_control_plane_key);
    const ControlKey another_key(std::string(40, 'z'));
    const auto wall_now = [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    };
    const auto send = [&](const std::string& body) {
        auto answer = system_->client().Put(protocol::leave_path, body, "application/json");
        return answer ? answer->status : -1;
    };

    // Forged: another key's proof, no proof, a malformed body.
    EXPECT_EQ(send(protocol::encode_leave_request(another_key, {leader, wall_now()})), 403);
    EXPECT_EQ(send(R"({"index":)" + std::to_string(leader) + R"(,"sent_at_ms":)" + std::to_string(wall_now()) + "}"), 403);
    EXPECT_EQ(send(R"({"index":300,"sent_at_ms":1,"proof":"00"})"), 400);
    // Proven but old: made 60 s ago (outside the LB's window), as a request kept for later would be.
    EXPECT_EQ(send(protocol::encode_leave_request(key, {leader, wall_now() - 60000})), 409);

    // A real request of a follower whose slave does not stop: taken out, then back at the next probe
    // that finds its slave serving. Played again, it changes nothing.
    const std::string captured = protocol::encode_leave_request(key, {follower, wall_now()});
    const auto leaving = [&] {
        auto status = system_->status();
        return status.HasMember("leaving") && !status["leaving"].Empty();
    };
    const int first = send(captured);
    EXPECT_TRUE(first == 200 || first == 202) << first;
    ASSERT_TRUE(wait_until(leaving, 2000ms)) << system_->logs();  // until its next probe, 100 ms
    ASSERT_TRUE(wait_until([&] { return !leaving() && system_->ready().size() == 3; }, 5000ms)) << system_->logs();
    EXPECT_EQ(send(captured), 409);
    // Nothing to wait for: a leave taken would show at once, and stay until the next probe.
    EXPECT_FALSE(wait_until(leaving, 500ms));
    EXPECT_EQ(system_->leader(), leader);
    EXPECT_EQ(system_->term(), term);
    const std::string metrics = system_->client().Get("/lb/metrics")->body;
    EXPECT_NE(metrics.find(R"(lb_control_rejected_total{message="cluster_leave"} 5)"), std::string::npos) << metrics;
}

// Issue 20: clusters stopped together (a Parallel scale-down, a node drain): the leader and the
// follower the election would choose leave at once. The leader goes to the third cluster, never to
// the follower that is about to go, and no acknowledged write is lost.
TEST_F(LbTest, TheLeaderAndItsBestFollowerLeavingTogetherHandTheLeadershipToTheThird) {
    ASSERT_NO_FATAL_FAILURE(start(3, default_timing_env));
    ASSERT_NO_FATAL_FAILURE(wait_followers(2));
    ASSERT_EQ(write_keys(*system_, 0, 30), 30);
    const int leader = system_->leader();
    // With the followers caught up (equal offsets) the election takes the lowest index.
    std::vector<int> followers;
    for (int index = 0; index < 3; ++index) {
        if (index != leader) followers.push_back(index);
    }
    const int best = followers.front();
    const int third = followers.back();
    WriteReadLoad load(*system_, 16);
    ASSERT_TRUE(wait_until([&] { return load.served() >= 100; }, 10000ms)) << system_->logs();

    EXPECT_EQ(system_->stop_clusters({leader, best}), (std::vector<int>{0, 0}));
    const int served_at_stop = load.served();
    ASSERT_TRUE(wait_until([&] { return load.served() >= served_at_stop + 200; }, 10000ms)) << system_->logs();
    load.stop();

    EXPECT_EQ(system_->leader(), third) << system_->logs();
    EXPECT_EQ(last_election_reason(*system_), "leader-drained");
    EXPECT_EQ(load.failed(), 0) << load.failures() << system_->logs();
    EXPECT_EQ(missing_keys(*system_, 0, 30), std::vector<int>{});
    EXPECT_EQ(load.lost(*system_), std::vector<int>{});
}

// Issue 12, finding 1: one request straight to a slave, with a higher term and a cluster that does
// not exist (or the largest term there is), used to stop every write through the LB for good.
TEST_F(LbTest, ForgedLeaderHeadersSentToTheSlavesDoNotStopTheSystem) {
    ASSERT_NO_FATAL_FAILURE(start(3));
    const long long term = system_->term();
    for (int index = 0; index < 3; ++index) {
        httplib::Client slave("127.0.0.1", system_->slave_port(index));
        slave.set_read_timeout(2s);
        for (const httplib::Headers& forged :
             {httplib::Headers{{"X-Leader-Term", std::to_string(term + 1)}, {"X-Leader", "3"}},
              httplib::Headers{{"X-Leader-Term", "9223372036854775807"}, {"X-Leader", "0"}}}) {
            auto refused = slave.Get("/get/x", forged);
            ASSERT_TRUE(refused);
            EXPECT_GE(refused->status, 400) << refused->body;
        }
    }
    EXPECT_EQ(write_keys(*system_, 0, 20), 20) << system_->logs();
    EXPECT_EQ(system_->term(), term);
    EXPECT_EQ(missing_keys(*system_, 0, 20), std::vector<int>{});
}

// A process answering on a cluster's slave port with a term no election made (an impostor, or a
// slave with another key) must not move the LB's term: terms only come from its elections.
TEST_F(LbTest, ATermWithoutTheLbsProofIsNeverAdopted) {
    system_ = std::make_unique<LocalSystem>(1, fast_env);
    system_->stop_lb();
    httplib::Server impostor;
    impostor.Get("/status", [](const httplib::Request&, httplib::Response& response) {
        response.set_content(R"({"index":1,"term":999,"leader":1,"ready":true,"proof":")" + std::string(64, 'a') + "\"}",
                             "application/json");
    });
    impostor.Put("/internal/leader", [](const httplib::Request&, httplib::Response& response) {
        response.status = 409;
        response.set_content(R"({"accepted":false,"term":999,"leader":1})", "application/json");
    });
    std::thread serving([&] { impostor.listen("127.0.0.1", system_->slave_port(1)); });
    ASSERT_TRUE(wait_until([&] { return impostor.is_running(); }, 2000ms));
    system_->start_lb(2);
    const bool elected = wait_until([&] { return system_->term() > 0 && system_->leader() == 0; }, 5000ms);
    const std::string metrics = system_->client().Get("/lb/metrics")->body;
    impostor.stop();
    serving.join();
    ASSERT_TRUE(elected) << system_->logs();
    EXPECT_LT(system_->term(), 999);
    EXPECT_TRUE(system_->set("k", "v")) << system_->logs();
    EXPECT_NE(metrics.find(R"(lb_control_rejected_total{message="status"})"), std::string::npos) << metrics;
}

// Issue 12, finding 2: PUT /lb/size on the public port drained the clusters of whoever asked.
TEST_F(LbTest, ResizingNeedsTheAdminToken) {
    ASSERT_NO_FATAL_FAILURE(start(3));
    const std::string body = R"({"size":1})";
    auto anonymous = system_->client().Put("/lb/size", body, "application/json");
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 401);
    EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), R"(Bearer realm="consult-db admin")");
    for (const std::string& credentials : {std::string("Bearer wrong-token-000000000000000000000"), std::string("Bearer "),
                                           "Bearer " + test_admin_token + "x"}) {
        auto refused = system_->client().Put("/lb/size", {{"Authorization", credentials}}, body, "application/json");
        ASSERT_TRUE(refused);
        EXPECT_EQ(refused->status, 403) << credentials;
        EXPECT_EQ(refused->body.rfind(R"({"error":")", 0), 0u) << refused->body;
    }
    auto basic = system_->client().Put("/lb/size", {{"Authorization", "Basic " + test_admin_token}}, body,
                                       "application/json");
    EXPECT_EQ(basic->status, 401);
    // Nothing started to drain (a refused resize would show within one probe round).
    ASSERT_FALSE(wait_until([&] { return !system_->drained().empty(); }, 500ms)) << system_->logs();
    auto status = system_->status();
    ASSERT_TRUE(status.HasMember("desired_size")) << system_->logs();
    EXPECT_EQ(status["desired_size"].GetInt(), 3);
    EXPECT_EQ(status["draining"].Size(), 0u);
    const std::string metrics = system_->client().Get("/lb/metrics")->body;
    EXPECT_NE(metrics.find(R"(lb_admin_rejected_total{reason="missing"} 2)"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find(R"(lb_admin_rejected_total{reason="wrong"} 3)"), std::string::npos) << metrics;
    EXPECT_EQ(system_->resize(3)->status, 202);
}

// Clients that pipeline reads of a 1 MB value and never read the answers: the LB holds back their
// further requests once a connection's answers wait unsent, and closes the connections that read
// least once all of them together hold too much, so its memory stays within the container limit
// and everybody else is served. Before: 50 such clients took the LB from 12 to 307 MB, 300 to 1.6 GB.
TEST_F(LbTest, ClientsThatNeverReadTheirAnswersCostBoundedMemory) {
    auto env = fast_env;
    env.erase("LIMITS_MAX_VALUE_BYTES");  // the default, 1 MiB
    // Reads are answered however long the slave takes to serve them all: what is measured is where
    // the answers wait, not the read deadline's 503s.
    env["HTTP_UPSTREAM_TIMEOUT_MS"] = "5000";
    env["HTTP_UPSTREAM_TRY_TIMEOUT_MS"] = "5000";
    ASSERT_NO_FATAL_FAILURE(start(1, env));
    const std::string value(1024 * 1024 - 64, 'v');
    ASSERT_TRUE(system_->set("big", value)) << system_->logs();
    constexpr long bound_kib = 128 * 1024;
    // 50 clients pipelining 8 reads each (issue 12's measure), then 300 pipelining 2: as many answers
    // as one slave serves within the window.
    for (const auto& [clients, pipelined] : {std::pair{50, 8}, std::pair{300, 2}}) {
        std::string requests;
        for (int i = 0; i < pipelined; ++i) requests += "GET /get/big HTTP/1.1\r\nHost: lb\r\n\r\n";
        std::vector<std::unique_ptr<RawConnection>> readers;
        for (int i = 0; i < clients; ++i) {
            // A small receive buffer, as over a slow link: the kernel takes little of what is sent.
            readers.push_back(std::make_unique<RawConnection>(system_->lb_port(), 16 * 1024));
            readers.back()->send(requests.data(), requests.size(), 1s);
        }
        long largest_kib = 0;
        auto slowest_health = 0ms;
        int health_failures = 0;
        // A measurement window, not a wait for readiness: the answers go out as the slave serves them.
        const auto until = std::chrono::steady_clock::now() + 3s;
        while (std::chrono::steady_clock::now() < until) {
            largest_kib = std::max(largest_kib, resident_kib(system_->lb().pid()));
            const auto asked = std::chrono::steady_clock::now();
            auto health = system_->client().Get("/lb/healthz");
            slowest_health = std::max(slowest_health, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                          std::chrono::steady_clock::now() - asked));
            health_failures += health && health->status == 200 ? 0 : 1;
        }
        const std::string name = std::to_string(clients) + "_clients_that_never_read";
        RecordProperty("lb_rss_kib_with_" + name, std::to_string(largest_kib));
        RecordProperty("slowest_healthz_ms_with_" + name, std::to_string(slowest_health.count()));
        EXPECT_LT(largest_kib, bound_kib) << clients << " clients that never read";
        EXPECT_EQ(health_failures, 0) << clients << " clients that never read";
        EXPECT_EQ(system_->get("big"), value) << clients << " clients that never read";
    }
}

// CPU time (user + system) a process has used, from /proc/PID/stat.
std::chrono::milliseconds cpu_time(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (name) "
    std::string field;
    long long ticks = 0;
    for (int index = 3; fields >> field && index <= 15; ++index) {
        if (index == 14 || index == 15) ticks += std::stoll(field);  // utime, stime
    }
    return std::chrono::milliseconds(ticks * 1000 / ::sysconf(_SC_CLK_TCK));
}

// More idle connections than the LB has descriptors for (here a hard limit of 256): it must neither
// spin on the connections it cannot accept nor stop answering. Before: 180% CPU and /lb/healthz
// unanswered, so Kubernetes' liveness probe restarted the only LB.
TEST_F(LbTest, MoreConnectionsThanDescriptorsNeitherSpinsNorStopsTheLb) {
    ASSERT_NO_FATAL_FAILURE(start(1));
    system_->stop_lb();
    system_->start_lb(1, {"prlimit", "--nofile=256:256", "--"});
    ASSERT_TRUE(system_->wait_ready(1)) << system_->logs();
    std::vector<std::unique_ptr<RawConnection>> idle;
    for (int i = 0; i < 400; ++i) idle.push_back(std::make_unique<RawConnection>(system_->lb_port()));
    // A one-second window of health checks: each must be answered, and the LB must mostly sleep.
    const auto cpu_before = cpu_time(system_->lb().pid());
    const auto started = std::chrono::steady_clock::now();
    int asked = 0;
    int answered = 0;
    while (std::chrono::steady_clock::now() - started < 1s) {
        auto health = system_->client().Get("/lb/healthz");
        ++asked;
        answered += health && health->status == 200 ? 1 : 0;
    }
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    const auto cpu = cpu_time(system_->lb().pid()) - cpu_before;
    RecordProperty("lb_cpu_ms_in_window", std::to_string(cpu.count()));
    RecordProperty("window_ms", std::to_string(elapsed.count()));
    EXPECT_EQ(answered, asked) << system_->logs();
    EXPECT_LT(cpu, elapsed / 2) << "the LB spins";
    EXPECT_TRUE(system_->set("after-the-flood", "v")) << system_->logs();
}

TEST_F(LbTest, NoReadyClusterAnswers503WithRetryAfter) {
    ASSERT_NO_FATAL_FAILURE(start(1));
    system_->kill_cluster(0);
    ASSERT_TRUE(wait_until([&] {
        auto answer = system_->client().Get("/get/k");
        return answer && answer->status == 503;
    }, 5000ms));
    auto answer = system_->client().Get("/get/k");
    EXPECT_EQ(answer->get_header_value("Retry-After"), "1");
    EXPECT_EQ(answer->body.rfind(R"({"error":)", 0), 0u);
    EXPECT_EQ(system_->client().Get("/lb/healthz")->status, 200);
}

}  // namespace
}  // namespace cdb::test
