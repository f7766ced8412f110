// The slave binary against real redis-server processes, over real HTTP.
#include <gtest/gtest.h>
#include <httplib.h>

#include <csignal>
#include <thread>

#include "cdb/protocol.h"
#include "raw_http.h"
#include "test_processes.h"

namespace cdb::test {
namespace {

constexpr int command_timeout_ms = 300;

// A plain TCP connection to 127.0.0.1:port with a 50 ms receive tick; -1 when refused.
int connect_to(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback_sockaddr(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    timeval tick{0, 50 * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
    return fd;
}

void send_text(int fd, const std::string& bytes) { ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL); }

// What arrives until the server closes or `wait` passes.
std::string receive_until_closed(int fd, std::chrono::milliseconds wait) {
    std::string received;
    const auto started = std::chrono::steady_clock::now();
    char buffer[4096];
    while (std::chrono::steady_clock::now() - started < wait) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n == 0) break;
        if (n > 0) received.append(buffer, static_cast<std::size_t>(n));
    }
    return received;
}

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t count = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
    return count;
}

class SlaveTest : public ::testing::Test {
protected:
    void SetUp() override {
        base_ = free_port_block(20);
        redis_a_ = std::make_unique<RedisServer>(redis_port(0), RedisStart::master);
        redis_b_ = std::make_unique<RedisServer>(redis_port(1), RedisStart::master);
    }

    int redis_port(int index) const { return base_ + 10 + index; }
    // Cluster i's slave port (port_step 1): the slave under test is cluster 0 unless it says otherwise.
    int slave_port() const { return base_ + index_; }

    void start_slave(std::map<std::string, std::string> extra = {}) {
        std::map<std::string, std::string> env{
            {"CLUSTER_HOST_TEMPLATE", "127.0.0.1"}, {"CLUSTER_SIZE", "2"},     {"CLUSTER_INDEX", "0"},
            {"CLUSTER_PORT_STEP", "1"},             {"SLAVE_PORT", std::to_string(base_)},
            {"REDIS_PORT", std::to_string(redis_port(0))},
            {"REDIS_COMMAND_TIMEOUT_MS", std::to_string(command_timeout_ms)},
            {"REDIS_CONNECT_TIMEOUT_MS", "200"},    {"LIMITS_MAX_VALUE_BYTES", "64"},
            {"LIMITS_MAX_KEY_BYTES", "32"},         {"LIMITS_MAX_LIST_COUNT", "50"},
            {"HTTP_HEADER_TIMEOUT_MS", "500"},      {"REPLICATION_MODE", "sync"},
            {"REDIS_DATA_PASSWORD", test_data_user.password}, {"CONTROL_PLANE_KEY", test_control_plane_key},
            // No LB here to hand a leadership over to (docs/PROTOCOL.md §10): a stop drains at once.
            {"HANDOVER_TIMEOUT_MS", "0"}};
        for (auto& [key, value] : extra) env[key] = value;
        index_ = std::stoi(env["CLUSTER_INDEX"]);
        slave_ = std::make_unique<ChildProcess>("slave", std::vector<std::string>{SLAVE_BINARY}, env);
        ASSERT_TRUE(wait_until([&] { return client().Get("/healthz"); }, 5000ms)) << slave_->log();
    }

    httplib::Client client() const {
        httplib::Client http("127.0.0.1", slave_port());
        http.set_connection_timeout(1s);
        http.set_read_timeout(3s);
        return http;
    }

    // As the LB announces: with the proof of the control-plane key, and a lease on the leader
    // (a minute: these tests are not about leases, but for those that say so).
    httplib::Result announce(int term, int leader, int followers = 0) {
        auto answer = announce_without_lease(term, leader, followers);
        if (answer && answer->status == 200) grant_lease(term, leader, 60000);
        return answer;
    }
    httplib::Result announce_without_lease(int term, int leader, int followers = 0) {
        return client().Put(protocol::announce_path,
                            protocol::encode_announcement(control_key_, AnnouncedLeader{term, leader, followers}),
                            "application/json");
    }

    // The nonce of a /status answer, as the LB's probe reads it.
    std::uint64_t lease_nonce(const httplib::Headers& headers = {}) {
        auto status = client().Get(protocol::status_path, headers);
        if (!status) return 0;
        const auto verdict = protocol::decode_reported_leader(control_key_, status->body);
        return verdict.lease_nonce.value_or(0);
    }

    // As the LB's next probe grants one: on the nonce of the probe before.
    void grant_lease(std::int64_t term, int leader, std::int64_t duration_ms, const ControlKey* key = nullptr) {
        const protocol::LeaseGrant grant{term, leader, lease_nonce(), duration_ms};
        lease_nonce({{protocol::lease_grant_header, protocol::encode_lease_grant(key ? *key : control_key_, grant)}});
    }

    // The headers the LB puts on a forwarded request, with their proof.
    httplib::Headers forwarded(std::int64_t term, int leader) const {
        return {{protocol::leader_term_header, std::to_string(term)},
                {protocol::leader_header, std::to_string(leader)},
                {protocol::leader_proof_header, protocol::leader_grant_proof(control_key_, term, leader)}};
    }

    httplib::Result set(const std::string& body) { return client().Post("/set", body, "application/json"); }

    const ControlKey control_key_{test_control_plane_key};
    int base_ = 0;
    int index_ = 0;
    std::unique_ptr<RedisServer> redis_a_;
    std::unique_ptr<RedisServer> redis_b_;
    std::unique_ptr<ChildProcess> slave_;
};

TEST_F(SlaveTest, NotReadyUntilALeaderIsAnnounced) {
    start_slave();
    auto ready = client().Get("/readyz");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 503);
    EXPECT_NE(ready->body.find("term 0"), std::string::npos) << ready->body;
    auto get = client().Get("/get/k");
    ASSERT_TRUE(get);
    EXPECT_EQ(get->status, 503);
    EXPECT_NE(get->body.find("no Redis-leader is known yet"), std::string::npos);
    EXPECT_EQ(get->get_header_value("Content-Type"), "application/json");

    ASSERT_EQ(announce(1, 0)->status, 200);
    EXPECT_EQ(client().Get("/readyz")->status, 200);
}

// Issue 20: Ready means "safe to lose the next one". The slave of cluster 1 follows leader 0; its
// own Redis starts empty and becomes a copy of the leader's only when the LB points it there.
TEST_F(SlaveTest, AFollowerIsReadyOnlyOnceItsRedisHasCaughtUpWithTheLeaders) {
    start_slave({{"CLUSTER_INDEX", "1"}});
    ASSERT_EQ(announce(1, 0)->status, 200);
    const std::string value(1000, 'v');
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(redis_a_->command({"SET", "k" + std::to_string(i), value}).is_status("OK"));

    auto fresh = client().Get("/readyz");
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->status, 503) << fresh->body;  // an empty master of its own
    EXPECT_NE(fresh->body.find("not a replica"), std::string::npos) << fresh->body;

    // As the LB repoints a new follower, with the leader holding its snapshot back 2 s (the delay
    // it has when several followers start together): pointed at the leader but not a copy yet.
    ASSERT_TRUE(redis_a_->command({"CONFIG", "SET", "repl-diskless-sync-delay", "2"}).is_status("OK"));
    ASSERT_TRUE(redis_b_->command({"REPLICAOF", "127.0.0.1", std::to_string(redis_port(0))}).is_status("OK"));
    const auto repointed = std::chrono::steady_clock::now();
    std::string syncing;
    ASSERT_TRUE(wait_until([&] {
        auto answer = client().Get("/readyz");
        syncing = answer ? std::to_string(answer->status) + " " + answer->body : "no answer";
        return answer && answer->body.find("not a replica") == std::string::npos;  // the cached verdict has expired
    }, 2000ms)) << syncing;
    EXPECT_EQ(syncing.rfind("503 ", 0), 0u) << syncing;

    std::string ready;
    ASSERT_TRUE(wait_until([&] {
        auto answer = client().Get("/readyz");
        ready = answer ? answer->body : "no answer";
        return answer && answer->status == 200;
    }, 10000ms)) << ready;
    EXPECT_GE(std::chrono::steady_clock::now() - repointed, 1500ms) << "ready before the snapshot was sent";
    EXPECT_NE(ready.find(R"("lag_bytes":)"), std::string::npos) << ready;
    // Ready: its Redis holds what the leader's held.
    EXPECT_EQ(redis_b_->command({"GET", "k299"}).text(), value);
    EXPECT_NE(redis_b_->command({"INFO", "replication"}).text().value_or("").find("master_link_status:up"),
              std::string::npos);

    // The leader's Redis gone: a follower can no longer tell that it is caught up.
    redis_a_->kill();
    EXPECT_TRUE(wait_until([&] { return client().Get("/readyz")->status == 503; }, 3000ms));
}

// The leader's own slave is ready as soon as its Redis is a master; while it is still a replica
// (not promoted yet) it is not.
TEST_F(SlaveTest, TheLeadersSlaveIsReadyOnceItsRedisIsAMaster) {
    start_slave();
    ASSERT_TRUE(redis_a_->command({"REPLICAOF", "127.0.0.1", "1"}).is_status("OK"));
    ASSERT_EQ(announce(1, 0)->status, 200);
    auto replica = client().Get("/readyz");
    ASSERT_TRUE(replica);
    EXPECT_EQ(replica->status, 503) << replica->body;
    ASSERT_TRUE(redis_a_->command({"REPLICAOF", "NO", "ONE"}).is_status("OK"));
    EXPECT_TRUE(wait_until([&] { return client().Get("/readyz")->status == 200; }, 2000ms));
}

TEST_F(SlaveTest, AWrongRedisPasswordMakesTheLeaderUnusableAndSaysWhy) {
    start_slave({{"REDIS_DATA_PASSWORD", "not-the-password-0001"}});
    ASSERT_EQ(announce(1, 0)->status, 200);
    auto ready = client().Get("/readyz");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 503);
    EXPECT_NE(ready->body.find("refused the login of user cdb-data: WRONGPASS"), std::string::npos) << ready->body;
    EXPECT_EQ(ready->body.find("not-the-password"), std::string::npos);
    EXPECT_EQ(set(R"({"key":"k","value":"v"})")->status, 503);
    EXPECT_FALSE(redis_a_->command({"EXISTS", "k"}).integer().value_or(1));
}

TEST_F(SlaveTest, DataRoutesRoundTrip) {
    start_slave();
    announce(1, 0);
    auto stored = set(R"({"key":"user:1/é \"q\"","value":"line\nnul\u0000 🎉"})");
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->status, 200) << stored->body;
    EXPECT_EQ(stored->get_header_value("X-Replication"), "degraded");  // sync mode, no follower announced

    auto got = client().Get("/get/user%3A1%2F%C3%A9%20%22q%22");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 200);
    EXPECT_EQ(got->body, R"({"key":"user:1/é \"q\"","value":"line\nnul\u0000 🎉"})");
    EXPECT_EQ(redis_a_->command({"GET", "user:1/é \"q\""}).text(), std::string("line\nnul\0 🎉", 14));

    set(R"({"key":"user:2","value":"b"})");
    set(R"({"key":"other","value":"c"})");
    auto listed = client().Get("/list-keys?pattern=user%3A*&count=50");
    ASSERT_TRUE(listed);
    EXPECT_EQ(listed->status, 200);
    EXPECT_NE(listed->body.find(R"("user:2")"), std::string::npos);
    EXPECT_NE(listed->body.find(R"("user:1/é \"q\"")"), std::string::npos);
    EXPECT_EQ(listed->body.find("other"), std::string::npos);
    EXPECT_NE(listed->body.find(R"("cursor":"0")"), std::string::npos) << listed->body;

    auto removed = client().Delete("/delete/user%3A2");
    ASSERT_TRUE(removed);
    EXPECT_EQ(removed->status, 200);
    EXPECT_EQ(client().Get("/get/user%3A2")->status, 404);
    EXPECT_EQ(client().Delete("/delete/user%3A2")->status, 404);
}

TEST_F(SlaveTest, TtlExpiresKeys) {
    start_slave();
    announce(1, 0);
    ASSERT_EQ(set(R"({"key":"temp","value":"v","ttl":100})")->status, 200);
    const auto ttl = redis_a_->command({"TTL", "temp"}).integer();
    ASSERT_TRUE(ttl);
    EXPECT_GT(*ttl, 90);
    EXPECT_LE(*ttl, 100);
}

TEST_F(SlaveTest, BadInputGetsTheRightStatus) {
    start_slave();
    announce(1, 0);
    struct Case {
        std::string method, path, body, content_type;
        int status;
    };
    const std::vector<Case> cases = {
        {"POST", "/set", "{not json", "application/json", 400},
        {"POST", "/set", R"(["key","value"])", "application/json", 400},
        {"POST", "/set", R"({"value":"v"})", "application/json", 400},
        {"POST", "/set", R"({"key":"k"})", "application/json", 400},
        {"POST", "/set", R"({"key":"k","value":5})", "application/json", 400},
        {"POST", "/set", R"({"key":"k","value":"v","ttl":-1})", "application/json", 400},
        {"POST", "/set", R"({"key":"k","value":"v","ttl":"10"})", "application/json", 400},
        {"POST", "/set", R"({"key":"k","value":"v","extra":1})", "application/json", 400},
        {"POST", "/set", R"({"key":"","value":"v"})", "application/json", 400},
        {"POST", "/set", R"({"key":"a\r\nb","value":"v"})", "application/json", 400},
        {"POST", "/set", "{\"key\":\"k\",\"value\":\"\xFF\"}", "application/json", 400},
        {"POST", "/set", R"({"key":"k","value":"v"} trailing)", "application/json", 400},
        {"POST", "/set", R"({"key":"k","value":")" + std::string(65, 'v') + "\"}", "application/json", 413},
        {"POST", "/set", R"({"key":")" + std::string(33, 'k') + R"(","value":"v"})", "application/json", 413},
        {"POST", "/set", R"({"key":"k","value":"v"})", "text/plain", 415},
        {"GET", "/get/", "", "", 400},
        {"GET", "/get/%FF", "", "", 400},
        {"GET", "/get/a%0Ab", "", "", 400},
        {"GET", "/get/%zz", "", "", 400},
        {"GET", "/get/" + std::string(33, 'k'), "", "", 413},
        {"GET", "/list-keys?count=51", "", "", 400},
        {"GET", "/list-keys?count=0", "", "", 400},
        {"GET", "/list-keys?count=99999999999999999999999", "", "", 400},
        {"GET", "/list-keys?cursor=abc", "", "", 400},
        {"GET", "/list-keys?pattern=%E0", "", "", 400},
        {"GET", "/list-keys?pattern=%", "", "", 400},
        {"PUT", "/set", "", "", 405},
        {"POST", "/get/k", "", "", 405},
        {"GET", "/nowhere", "", "", 404},
        {"PUT", "/internal/leader", "{}", "application/json", 400},
        {"PUT", "/internal/leader", R"({"term":0,"leader":0})", "application/json", 400},
    };
    auto http = client();
    for (const Case& c : cases) {
        httplib::Request request;
        request.method = c.method;
        request.path = c.path;
        request.body = c.body;
        if (!c.content_type.empty()) request.set_header("Content-Type", c.content_type);
        auto response = http.send(request);
        ASSERT_TRUE(response) << c.method << ' ' << c.path;
        EXPECT_EQ(response->status, c.status) << c.method << ' ' << c.path << ' ' << c.body << " -> " << response->body;
        EXPECT_EQ(response->body.rfind(R"({"error":")", 0), 0u) << c.path << " -> " << response->body;
    }
    EXPECT_EQ(client().Post("/get/k", "", "application/json")->get_header_value("Allow"), "GET");
    EXPECT_TRUE(slave_->running());
}

TEST_F(SlaveTest, AnnouncementsFollowTheTermRule) {
    start_slave();
    EXPECT_EQ(announce(2, 0)->status, 200);
    EXPECT_EQ(announce(2, 0, 1)->status, 200);
    auto conflict = announce(2, 1);
    EXPECT_EQ(conflict->status, 409);
    EXPECT_NE(conflict->body.find(R"("term":2,"leader":0)"), std::string::npos);
    auto stale = announce(1, 1);
    EXPECT_EQ(stale->status, 409);
    auto status = client().Get("/status");
    EXPECT_NE(status->body.find(R"("term":2,"leader":0)"), std::string::npos) << status->body;
    EXPECT_NE(status->body.find(R"("followers":1)"), std::string::npos) << status->body;
}

TEST_F(SlaveTest, ReadsAndWritesFollowTheLeader) {
    start_slave();
    announce(1, 0);
    ASSERT_EQ(set(R"({"key":"k","value":"on-a"})")->status, 200);
    announce(2, 1);
    ASSERT_EQ(set(R"({"key":"k","value":"on-b"})")->status, 200);
    EXPECT_EQ(redis_a_->command({"GET", "k"}).text(), "on-a");
    EXPECT_EQ(redis_b_->command({"GET", "k"}).text(), "on-b");
    EXPECT_NE(client().Get("/get/k")->body.find("on-b"), std::string::npos);

    // The LB's term on a forwarded request moves the slave even if it missed the announcement; it
    // serves from the new leader once the LB's lease on it comes.
    auto moved = client().Get("/get/k", forwarded(3, 0));
    ASSERT_TRUE(moved);
    EXPECT_EQ(moved->status, 503) << moved->body;
    EXPECT_NE(moved->body.find("no lease"), std::string::npos) << moved->body;
    grant_lease(3, 0, 60000);
    moved = client().Get("/get/k", forwarded(3, 0));
    ASSERT_TRUE(moved);
    EXPECT_NE(moved->body.find("on-a"), std::string::npos);
    EXPECT_EQ(moved->get_header_value("X-Leader-Term"), "3");
    // An older term is refused and nothing is read or written.
    auto refused = client().Post("/set", forwarded(2, 1), R"({"key":"k","value":"stale"})", "application/json");
    EXPECT_EQ(refused->status, 409);
    EXPECT_EQ(refused->get_header_value("X-Retry-Elsewhere"), "stale-term");
    EXPECT_EQ(redis_b_->command({"GET", "k"}).text(), "on-b");
    EXPECT_EQ(client().Get("/get/k", httplib::Headers{{"X-Leader-Term", "x"}, {"X-Leader", "0"}})->status, 400);
}

// Issue 12, finding 1: one request straight to a slave with a higher term and a cluster that does
// not exist used to move the slave there for good. Only the LB's proof may move it now.
TEST_F(SlaveTest, ForgedLeaderHeadersChangeNothing) {
    start_slave();
    ASSERT_EQ(announce(1, 0)->status, 200);
    ASSERT_EQ(set(R"({"key":"k","value":"v"})")->status, 200);
    const ControlKey stranger("a-key-that-is-not-the-deployments-01");
    const std::vector<httplib::Headers> forgeries{
        {{"X-Leader-Term", "2"}, {"X-Leader", "3"}},
        {{"X-Leader-Term", "2"}, {"X-Leader", "1"}, {"X-Leader-Proof", std::string(64, '0')}},
        {{"X-Leader-Term", "2"}, {"X-Leader", "1"}, {"X-Leader-Proof", protocol::leader_grant_proof(stranger, 2, 1)}},
        // The proof of (2, 0) does not cover (2, 1).
        {{"X-Leader-Term", "2"}, {"X-Leader", "1"}, {"X-Leader-Proof", protocol::leader_grant_proof(control_key_, 2, 0)}},
    };
    for (const auto& headers : forgeries) {
        auto refused = client().Get("/get/k", headers);
        ASSERT_TRUE(refused);
        EXPECT_EQ(refused->status, 403) << refused->body;
        EXPECT_EQ(refused->body.rfind(R"({"error":")", 0), 0u) << refused->body;
    }
    // A term past what any election can reach is malformed, proven or not.
    for (const char* term : {"9223372036854775807", "9007199254740992"}) {
        EXPECT_EQ(client().Get("/get/k", httplib::Headers{{"X-Leader-Term", term}, {"X-Leader", "0"}})->status, 400);
    }
    auto status = client().Get("/status");
    EXPECT_NE(status->body.find(R"("term":1,"leader":0)"), std::string::npos) << status->body;
    EXPECT_NE(client().Get("/get/k")->body.find(R"("value":"v")"), std::string::npos);
    EXPECT_NE(client().Get("/metrics")->body.find(R"(slave_control_rejected_total{message="forwarded"} 4)"),
              std::string::npos);
}

TEST_F(SlaveTest, AnAnnouncementWithoutTheLbsProofChangesNothing) {
    start_slave();
    ASSERT_EQ(announce(1, 0, 1)->status, 200);
    const ControlKey stranger("a-key-that-is-not-the-deployments-01");
    const std::string forgeries[] = {
        R"({"term":5,"leader":1,"followers":0})",
        protocol::encode_announcement(stranger, AnnouncedLeader{5, 1, 0}),
        // A proof of the same leadership with another followers count: followers are covered too.
        [&] {
            std::string body = protocol::encode_announcement(control_key_, AnnouncedLeader{1, 0, 1});
            return body.replace(body.find(R"("followers":1)"), 13, R"("followers":0)");
        }(),
    };
    for (const std::string& body : forgeries) {
        auto refused = client().Put(protocol::announce_path, body, "application/json");
        ASSERT_TRUE(refused);
        EXPECT_EQ(refused->status, 403) << body << " -> " << refused->body;
    }
    auto status = client().Get("/status");
    EXPECT_NE(status->body.find(R"("term":1,"leader":0)"), std::string::npos) << status->body;
    EXPECT_NE(status->body.find(R"("followers":1)"), std::string::npos) << status->body;
    EXPECT_NE(client().Get("/metrics")->body.find(R"(slave_control_rejected_total{message="announcement"} 3)"),
              std::string::npos);
}

// What the slave reports about the leader it follows carries the proof the LB checks before it
// learns a term from it.
TEST_F(SlaveTest, StatusCarriesTheProofOfTheLeaderItFollows) {
    start_slave();
    ASSERT_EQ(announce(4, 1)->status, 200);
    auto status = client().Get("/status");
    ASSERT_TRUE(status);
    EXPECT_NE(status->body.find(R"("proof":")" + protocol::leader_grant_proof(control_key_, 4, 1) + "\""),
              std::string::npos)
        << status->body;
}

TEST_F(SlaveTest, LeaderRedisDeathAnswers503InTimeAndRecovers) {
    start_slave();
    announce(1, 0);
    ASSERT_EQ(set(R"({"key":"k","value":"v"})")->status, 200);
    redis_a_->kill();
    const auto started = std::chrono::steady_clock::now();
    auto failed = set(R"({"key":"k2","value":"v"})");
    const auto elapsed = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->status, 503);
    EXPECT_EQ(failed->get_header_value("X-Leader-Failure"), "1");
    EXPECT_EQ(failed->get_header_value("Retry-After"), "1");
    EXPECT_LT(elapsed, 1000ms);
    EXPECT_EQ(client().Get("/readyz")->status, 503);
    EXPECT_NE(client().Get("/status")->body.find(R"("leader_failures_consecutive":)"), std::string::npos);

    redis_a_->start();
    EXPECT_TRUE(wait_until([&] { return set(R"({"key":"k3","value":"v"})")->status == 200; }, 5000ms));
    EXPECT_EQ(redis_a_->command({"GET", "k3"}).text(), "v");
    EXPECT_TRUE(slave_->running());
}

TEST_F(SlaveTest, BlackHoledLeaderCostsTheCommandTimeout) {
    start_slave();
    announce(1, 0);
    ASSERT_EQ(client().Get("/readyz")->status, 200);  // the pool holds a live connection
    redis_a_->pause();
    const auto started = std::chrono::steady_clock::now();
    auto failed = client().Get("/get/k");
    const auto elapsed = std::chrono::steady_clock::now() - started;
    redis_a_->resume();
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->status, 503);
    EXPECT_GE(elapsed, std::chrono::milliseconds(command_timeout_ms - 50));
    EXPECT_LT(elapsed, std::chrono::milliseconds(command_timeout_ms + 700));
    EXPECT_TRUE(wait_until([&] { return client().Get("/get/k")->status == 404; }, 5000ms));
}

TEST_F(SlaveTest, AWriteAFrozenLeaderMayStillRunIsAnswered504OutcomeUnknown) {
    start_slave();
    announce(1, 0);
    ASSERT_EQ(client().Get("/readyz")->status, 200);  // the pool holds a live connection
    redis_a_->pause();
    auto unknown = set(R"({"key":"late","value":"v"})");
    redis_a_->resume();
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->status, 504) << unknown->body;
    EXPECT_NE(unknown->body.find(R"("outcome":"unknown")"), std::string::npos) << unknown->body;
    EXPECT_EQ(unknown->get_header_value("X-Leader-Failure"), "1");
    // Not "nothing was written": the Redis ran the command when it woke.
    EXPECT_TRUE(wait_until([&] { return redis_a_->command({"GET", "late"}).text() == "v"; }, 5000ms));
}

// Issue 16: a slave serves data only while the LB has lately confirmed its leader. Without a lease
// nothing is sent to Redis; the lease ends on the slave's clock however the grant was delayed.
TEST_F(SlaveTest, ServesDataOnlyUnderTheLbsLease) {
    start_slave();
    ASSERT_EQ(announce_without_lease(1, 0)->status, 200);
    auto refused = set(R"({"key":"k","value":"v"})");
    EXPECT_EQ(refused->status, 503) << refused->body;
    EXPECT_NE(refused->body.find("no lease"), std::string::npos) << refused->body;
    // Another slave's lease may be fresh: the LB tries it, the write included.
    EXPECT_EQ(refused->get_header_value("X-Retry-Elsewhere"), "no-lease");
    EXPECT_TRUE(redis_a_->command({"GET", "k"}).is_nil());  // nothing was sent
    EXPECT_EQ(client().Get("/get/k")->status, 503);
    EXPECT_EQ(client().Get("/readyz")->status, 200);  // reachability needs no lease

    // Grants that do not count: another key's proof, a nonce this slave never sent, another leader.
    const ControlKey stranger("a-key-that-is-not-the-deployments-01");
    grant_lease(1, 0, 60000, &stranger);
    lease_nonce({{protocol::lease_grant_header,
                  protocol::encode_lease_grant(control_key_, protocol::LeaseGrant{1, 0, 12345, 60000})}});
    grant_lease(1, 1, 60000);
    EXPECT_EQ(set(R"({"key":"k","value":"v"})")->status, 503);
    EXPECT_NE(client().Get("/metrics")->body.find(R"(slave_control_rejected_total{message="lease_grant"} 1)"),
              std::string::npos);

    grant_lease(1, 0, 400);
    EXPECT_EQ(set(R"({"key":"k","value":"v"})")->status, 200);
    EXPECT_EQ(client().Get("/get/k")->status, 200);
    // Ends 400 ms after the nonce was sent, with no grant since.
    EXPECT_TRUE(wait_until([&] { return client().Get("/get/k")->status == 503; }, 2000ms));
}

// Issue 16: the lease is checked again when Redis answers. A leader's Redis paused past the lease
// (the LB may have promoted another meanwhile) answers when it wakes: the read is dropped, the
// write's outcome is unknown (it did run), neither counts as the leader failing.
TEST_F(SlaveTest, AnAnswerThatArrivesAfterTheLeaseIsNeverServed) {
    start_slave();
    announce_without_lease(1, 0);
    ASSERT_EQ(client().Get("/readyz")->status, 200);  // the pool holds a live connection
    grant_lease(1, 0, 150);
    redis_a_->pause();
    std::thread resume([&] {
        std::this_thread::sleep_for(250ms);  // past the lease, within the 300 ms command timeout
        redis_a_->resume();
    });
    auto write = set(R"({"key":"k","value":"late"})");
    resume.join();
    ASSERT_TRUE(write);
    EXPECT_EQ(write->status, 504) << write->body;
    EXPECT_NE(write->body.find(R"("outcome":"unknown")"), std::string::npos) << write->body;
    EXPECT_NE(write->body.find("after the lease"), std::string::npos) << write->body;
    EXPECT_FALSE(write->has_header("X-Leader-Failure"));
    EXPECT_FALSE(write->has_header("X-Retry-Elsewhere"));  // it ran: never repeated elsewhere
    EXPECT_EQ(redis_a_->command({"GET", "k"}).text(), "late");  // it ran: "unknown" was honest

    announce_without_lease(2, 0);
    grant_lease(2, 0, 150);
    redis_a_->pause();
    std::thread resume_again([&] {
        std::this_thread::sleep_for(250ms);
        redis_a_->resume();
    });
    auto read = client().Get("/get/k");
    resume_again.join();
    ASSERT_TRUE(read);
    EXPECT_EQ(read->status, 503) << read->body;
    EXPECT_NE(read->body.find("may be stale"), std::string::npos) << read->body;
    // It changed nothing: the LB tries another slave (the gray-failure bench saw a throttled slave's
    // dropped reads reach the clients).
    EXPECT_EQ(read->get_header_value("X-Retry-Elsewhere"), "no-lease");
}

TEST_F(SlaveTest, SyncWritesWaitForAFollower) {
    start_slave();
    ASSERT_TRUE(redis_b_->command({"REPLICAOF", "127.0.0.1", std::to_string(redis_port(0))}).is_status("OK"));
    ASSERT_TRUE(wait_until([&] {
        // Online: the initial full sync is over, so the follower acknowledges WAIT.
        return redis_a_->command({"INFO", "replication"}).text().value_or("").find("state=online") !=
               std::string::npos;
    }, 5000ms));
    announce(1, 0, 1);
    // A loaded machine may miss one WAIT window: the write is then honestly "degraded".
    EXPECT_TRUE(wait_until([&] {
        auto stored = set(R"({"key":"k","value":"replicated"})");
        return stored->status == 200 && stored->get_header_value("X-Replication") == "synced";
    }, 5000ms));
    EXPECT_EQ(redis_b_->command({"GET", "k"}).text(), "replicated");

    redis_b_->kill();  // the follower is gone: writes go on, visibly degraded
    auto degraded = set(R"({"key":"k","value":"alone"})");
    ASSERT_EQ(degraded->status, 200);
    EXPECT_EQ(degraded->get_header_value("X-Replication"), "degraded");
}

TEST_F(SlaveTest, ReplicationModeNoneSaysSo) {
    start_slave({{"REPLICATION_MODE", "none"}});
    announce(1, 0, 1);
    EXPECT_EQ(set(R"({"key":"k","value":"v"})")->get_header_value("X-Replication"), "none");
}

TEST_F(SlaveTest, MetricsAreInPrometheusFormat) {
    start_slave();
    announce(4, 1);
    client().Get("/get/absent");
    auto metrics = client().Get("/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->get_header_value("Content-Type").rfind("text/plain", 0), 0u);
    EXPECT_NE(metrics->body.find("# TYPE slave_requests_total counter"), std::string::npos);
    EXPECT_NE(metrics->body.find(R"(slave_requests_total{route="get",status="404"} 1)"), std::string::npos);
    EXPECT_NE(metrics->body.find("slave_term 4"), std::string::npos);
}

TEST_F(SlaveTest, StoppingFinishesRunningRequestsAndTurnsNewOnesAway) {
    start_slave();
    announce(1, 0);
    ASSERT_EQ(client().Get("/readyz")->status, 200);
    redis_a_->pause();  // a request now runs for the whole command timeout
    std::optional<httplib::Result> running;
    std::thread request([&] { running.emplace(client().Get("/get/k")); });
    std::this_thread::sleep_for(100ms);  // no observable sign that it arrived: give it time to
    slave_->signal(SIGTERM);
    std::this_thread::sleep_for(50ms);
    auto turned_away = client().Get("/get/k");
    auto status_while_stopping = client().Get("/status");
    request.join();
    redis_a_->resume();
    ASSERT_TRUE(running && *running);  // answered, not cut off
    EXPECT_EQ((*running)->status, 503);
    EXPECT_EQ((*running)->get_header_value("X-Leader-Failure"), "1");
    ASSERT_TRUE(turned_away);
    EXPECT_EQ(turned_away->status, 503);
    EXPECT_EQ(turned_away->get_header_value("X-Retry-Elsewhere"), "stopping");
    ASSERT_TRUE(status_while_stopping);  // the LB's probe fails: no re-admission while it drains
    EXPECT_EQ(status_while_stopping->status, 503);
    EXPECT_EQ(slave_->wait_exit(2000ms), 0);
}

TEST_F(SlaveTest, StopsCleanlyOnSigterm) {
    start_slave();
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(slave_->stop(5000ms), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2000ms);
}

// Pistache 0.0.5 behaviours the service depends on or works around (docs/PISTACHE.md).
TEST_F(SlaveTest, PistacheKeepsHttp11ConnectionsAlive) {
    start_slave();
    httplib::Client http("127.0.0.1", slave_port());
    http.set_keep_alive(true);
    int connections = 0;
    http.set_socket_options([&](socket_t) { ++connections; });
    for (int i = 0; i < 5; ++i) EXPECT_EQ(http.Get("/healthz")->status, 200);
    EXPECT_EQ(connections, 1);
}

TEST_F(SlaveTest, PistachePipelinedRequestsAreAllAnsweredInOrder) {
    // Pistache 0.0.5 alone answers only the first request of a packet; HttpServer parses the rest
    // (docs/PISTACHE.md). A request that closes the connection ends the pipeline.
    start_slave();
    announce(1, 0);
    const std::string body = R"({"key":"p","value":"v"})";
    const std::string set_p = "POST /set HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
    const std::string get_p = "GET /get/p HTTP/1.1\r\n\r\n";
    const std::string close = "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n";
    auto exchange = raw_exchange(slave_port(), set_p + get_p + close + get_p, 2000ms);
    EXPECT_EQ(count_of(exchange.received, "HTTP/1.1 200 OK"), 3u) << exchange.received;
    const auto stored = exchange.received.find(R"("stored":true)");
    const auto value = exchange.received.find(R"("value":"v")");
    const auto alive = exchange.received.find(R"("status":"alive")");
    EXPECT_TRUE(stored < value && value < alive && alive != std::string::npos) << exchange.received;
    EXPECT_TRUE(exchange.closed_by_server);
}

TEST_F(SlaveTest, PistacheClosesWhenTheClientAsks) {
    start_slave();
    auto http10 = raw_exchange(slave_port(), "GET /healthz HTTP/1.0\r\n\r\n", 2000ms);
    EXPECT_NE(http10.received.find("200 OK"), std::string::npos);
    EXPECT_TRUE(http10.closed_by_server);
    auto close = raw_exchange(slave_port(), "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", 2000ms);
    EXPECT_NE(close.received.find("Connection: Close"), std::string::npos);
    EXPECT_TRUE(close.closed_by_server);
}

TEST_F(SlaveTest, PistacheAnswersAStalledRequestAfterTheHeaderTimeout) {
    start_slave();  // HTTP_HEADER_TIMEOUT_MS=500
    auto stalled = raw_exchange(slave_port(), "GARBAGE\r\n\r\n", 3000ms);
    EXPECT_NE(stalled.received.find("408"), std::string::npos) << stalled.received;
    EXPECT_TRUE(stalled.closed_by_server);
    EXPECT_LT(stalled.elapsed, 1500ms);
}

TEST_F(SlaveTest, PistacheRefusesOversizedRequestsWith413) {
    start_slave();  // LIMITS_MAX_VALUE_BYTES=64: the request limit is about 16 KiB
    const std::string body(64 * 1024, 'x');
    auto oversized = raw_exchange(
        slave_port(),
        "POST /set HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\n\r\n" + body,
        1000ms);
    EXPECT_EQ(oversized.received.rfind("HTTP/1.1 413", 0), 0u) << oversized.received.substr(0, 200);
    EXPECT_EQ(client().Get("/healthz")->status, 200);
}

TEST_F(SlaveTest, PistacheAmbiguousContentLengthIsA400ThatCloses) {
    // Pistache 0.0.5 alone answers -5 with a 500 and reads "abc" as 0, keeping the connection, so
    // the next bytes would be parsed as another request; HttpServer screens the head first.
    start_slave();
    for (const char* length : {"-5", "abc", "5, 6"}) {
        auto refused = raw_exchange(
            slave_port(), std::string("POST /set HTTP/1.1\r\nContent-Length: ") + length + "\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n",
            1000ms);
        EXPECT_EQ(refused.received.rfind("HTTP/1.1 400", 0), 0u) << length << ": " << refused.received;
        EXPECT_NE(refused.received.find("Content-Length must be a non-negative decimal integer"), std::string::npos);
        EXPECT_EQ(count_of(refused.received, "HTTP/1.1"), 1u) << refused.received;
        EXPECT_TRUE(refused.closed_by_server) << length;
    }
    EXPECT_EQ(client().Get("/healthz")->status, 200);
}

TEST_F(SlaveTest, DeeplyNestedJsonIsA400NotACrash) {
    // Regression: RapidJSON's recursive parser overflowed a server thread's stack on 300 000 '['
    // (fits the default 1 MiB value limit) and the slave died with SIGSEGV.
    start_slave({{"LIMITS_MAX_VALUE_BYTES", "1048576"}});
    auto nested = set(std::string(300000, '['));
    ASSERT_TRUE(nested);
    EXPECT_EQ(nested->status, 400);
    EXPECT_NE(nested->body.find("nested deeper than 32 levels"), std::string::npos) << nested->body;
    auto announcement = client().Put("/internal/leader", std::string(300000, '{'), "application/json");
    ASSERT_TRUE(announcement);
    EXPECT_EQ(announcement->status, 400);
    EXPECT_TRUE(slave_->running());
}

TEST_F(SlaveTest, PistacheAnswerNeverReachesAnotherConnection) {
    // Pistache 0.0.5 queues an answer under its connection's descriptor number and writes it on a
    // later turn of its loop. A client that hangs up before that (the LB when an attempt times out)
    // has its descriptor closed meanwhile; a connection accepted then gets the same number and used
    // to receive the stranger's answer (found by make chaos, docs/CHAOS.md). The steps below order
    // the events on the slave's only loop so that this happens unless the answer is written at once.
    start_slave({{"SLAVE_THREADS", "1"}});
    announce(1, 0);
    // Descriptor numbers are reused lowest first. The slave's Redis connection is opened now, below
    // the hung-up connection's number, so that its replacement does not take that number.
    const int busy = connect_to(slave_port());
    ASSERT_GE(busy, 0);
    send_text(busy, "GET /get/warm HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_NE(receive_until_closed(busy, 500ms).find("404"), std::string::npos);
    redis_a_->pause();  // every data request now takes the command timeout (300 ms) and answers 503
    const int leaving = connect_to(slave_port());
    send_text(leaving, "GET /get/theirs HTTP/1.1\r\nHost: x\r\n\r\n");
    ::close(leaving);  // hung up: its 503 is queued after 300 ms, when its descriptor is closed too
    std::this_thread::sleep_for(100ms);
    send_text(busy, "GET /get/other HTTP/1.1\r\nHost: x\r\n\r\n");  // then holds the loop 300 ms more
    std::this_thread::sleep_for(50ms);
    const int early = connect_to(slave_port());  // new connections now wait in the loop's queue
    std::this_thread::sleep_for(250ms);
    std::vector<int> newcomers;  // they get the lowest free numbers, the hung-up connection's first
    for (int i = 0; i < 8; ++i) newcomers.push_back(connect_to(slave_port()));
    std::this_thread::sleep_for(400ms);
    redis_a_->resume();
    int misdelivered = 0;
    for (int fd : newcomers) {
        send_text(fd, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
        const std::string received = receive_until_closed(fd, 2000ms);
        if (received.find("X-Leader-Failure") != std::string::npos) ++misdelivered;  // never on /healthz
        EXPECT_NE(received.find("200 OK"), std::string::npos) << received;
        ::close(fd);
    }
    ::close(busy);
    ::close(early);
    EXPECT_EQ(misdelivered, 0);
}

TEST_F(SlaveTest, AFrozenSlaveSurvivesRequestsThatWaitedPastTheHeaderTimeout) {
    // Found by make chaos (SIGSTOP of a cluster for 3 s): on waking, Pistache 0.0.5 first times out
    // every connection that has had no complete request for longer than the header timeout (its
    // 408 is queued, and the connection is removed once that is written), then reads their requests.
    // Answering one and flushing Pistache's queue there wrote those 408s, removed the connection
    // being read, and the slave aborted ("Could not find peer to erase").
    start_slave({{"SLAVE_THREADS", "1"}});
    announce(1, 0);
    std::vector<int> waiting;
    for (int i = 0; i < 8; ++i) waiting.push_back(connect_to(slave_port()));
    // The loop has taken in every connection once it answers one opened after them.
    const int last = connect_to(slave_port());
    send_text(last, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
    ASSERT_NE(receive_until_closed(last, 2000ms).find("200 OK"), std::string::npos);
    ::close(last);

    slave_->signal(SIGSTOP);
    for (int fd : waiting) send_text(fd, "GET /get/frozen HTTP/1.1\r\nConnection: close\r\n\r\n");
    std::this_thread::sleep_for(1200ms);  // the header timeout (500 ms) and Pistache's 500 ms tick
    slave_->signal(SIGCONT);

    for (int fd : waiting) {
        const std::string received = receive_until_closed(fd, 1500ms);
        // Pistache's verdict came before the request was read: a 408, an answer, or both, then a close.
        EXPECT_TRUE(received.find("404 Not Found") != std::string::npos ||
                    received.find("408 Request Timeout") != std::string::npos)
            << received;
        ::close(fd);
    }
    EXPECT_TRUE(slave_->running()) << slave_->log();
    auto health = client().Get("/healthz");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
}

TEST(SlaveConfig, BadConfigurationExitsWithStatusTwoNamingTheField) {
    ChildProcess missing("slave", {SLAVE_BINARY}, {{"CLUSTER_SIZE", "2"}});
    EXPECT_EQ(missing.wait_exit(5000ms), 2);
    EXPECT_NE(missing.log().find("cluster.host_template"), std::string::npos) << missing.log();

    ChildProcess bad_level("slave", {SLAVE_BINARY},
                           {{"CLUSTER_HOST_TEMPLATE", "s-{i}"}, {"CLUSTER_SIZE", "2"}, {"CLUSTER_INDEX", "0"},
                            {"LOG_LEVEL", "loud"}});
    EXPECT_EQ(bad_level.wait_exit(5000ms), 2);
    EXPECT_NE(bad_level.log().find("LOG_LEVEL"), std::string::npos) << bad_level.log();

    ChildProcess bad_file("slave", {SLAVE_BINARY, "--config", "/nonexistent.json"});
    EXPECT_EQ(bad_file.wait_exit(5000ms), 2);
    EXPECT_NE(bad_file.log().find("/nonexistent.json"), std::string::npos);
}

}  // namespace
}  // namespace cdb::test
