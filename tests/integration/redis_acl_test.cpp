// Authentication and least privilege of every Redis (docs/SECURITY.md), against real redis-server
// processes started by docker/redis-run, the script every mode of the project uses.
#include <gtest/gtest.h>

#include "local_system.h"

namespace cdb::test {
namespace {

const RedisCredentials no_login{"", ""};

bool starts_with(const std::optional<std::string>& text, const std::string& prefix) {
    return text && text->rfind(prefix, 0) == 0;
}

// What an error reply or a refused login says, or "" when the command ran.
std::string refusal(const RedisReply& reply) {
    if (reply.io_error()) return reply.error_message();
    return reply.is_error_reply() ? reply.text().value_or("") : "";
}

// The user's ACL forbids the command (ACL DRYRUN, which runs nothing), and running it is refused:
// by the ACL, or earlier, as DEBUG is by Redis's own enable-debug-command.
void expect_denied(const RedisServer& redis, const RedisCredentials& user, const std::vector<std::string>& command) {
    std::vector<std::string> dry_run{"ACL", "DRYRUN", user.user};
    dry_run.insert(dry_run.end(), command.begin(), command.end());
    const RedisReply verdict = redis.command(dry_run);
    EXPECT_NE(verdict.text().value_or("").find("no permissions"), std::string::npos)
        << user.user << " may run " << command[0] << ": " << verdict.text().value_or(refusal(verdict));
    const std::string refused = refusal(redis.command_as(user, command));
    EXPECT_TRUE(starts_with(refused, "NOPERM") || (command[0] == "DEBUG" && !refused.empty()))
        << user.user << " ran " << command[0] << ": " << refused;
}

void expect_strangers_refused(const RedisServer& redis) {
    const RedisReply anonymous = redis.command_as(no_login, {"PING"});
    EXPECT_TRUE(starts_with(anonymous.text(), "NOAUTH")) << "port " << redis.port() << ": " << refusal(anonymous);
    const std::vector<RedisCredentials> wrong{{test_data_user.user, "wrong-password-00000"},
                                              {test_coordinator_user.user, test_data_user.password},
                                              {test_replication_user.user, "wrong-password-00000"},
                                              {"default", "any-password-000000"},
                                              {"nobody", test_data_user.password}};
    for (const RedisCredentials& user : wrong) {
        const RedisReply reply = redis.command_as(user, {"PING"});
        EXPECT_TRUE(reply.io_error()) << user.user << " on port " << redis.port();
        EXPECT_NE(reply.error_message().find("WRONGPASS"), std::string::npos) << reply.error_message();
        EXPECT_EQ(reply.error_message().find(user.password), std::string::npos) << "the error shows the password";
    }
}

TEST(RedisAcl, EveryRedisOfALocalSystemRefusesStrangersWhileTheServicesLogIn) {
    LocalSystem system(3, {{"ELECTION_PROBE_INTERVAL_MS", "100"}});
    // Ready with a leader: the LB logged in as the coordinator, the slaves as the data user.
    ASSERT_TRUE(system.wait_ready(3)) << system.logs();
    ASSERT_TRUE(system.set("written", "through the LB"));
    EXPECT_EQ(system.get("written"), "through the LB");
    for (int index = 0; index < 3; ++index) expect_strangers_refused(system.redis(index));
}

TEST(RedisAcl, TheDataUserRunsOnlyDataCommands) {
    RedisServer redis(free_port_block(1), RedisStart::master);
    for (const std::vector<std::string>& allowed :
         std::vector<std::vector<std::string>>{{"SET", "k", "v", "EX", "60"}, {"GET", "k"},
                                               {"SCAN", "0", "MATCH", "*", "COUNT", "10"}, {"DEL", "k"},
                                               {"WAIT", "0", "0"}, {"PING"}, {"INFO", "replication"}}) {
        const RedisReply reply = redis.command_as(test_data_user, allowed);
        EXPECT_EQ(refusal(reply), "") << allowed[0];
    }
    for (const std::vector<std::string>& denied : std::vector<std::vector<std::string>>{
             {"FLUSHALL"}, {"FLUSHDB"}, {"CONFIG", "GET", "*"}, {"CONFIG", "SET", "maxmemory", "1"},
             {"DEBUG", "SLEEP", "0"}, {"KEYS", "*"}, {"SHUTDOWN", "NOSAVE"}, {"REPLICAOF", "NO", "ONE"},
             {"SLAVEOF", "NO", "ONE"}, {"ACL", "LIST"}, {"MODULE", "LIST"}, {"EVAL", "return 1", "0"},
             {"CLIENT", "LIST"}, {"SAVE"}, {"MIGRATE", "127.0.0.1", "1", "k", "0", "100"}}) {
        expect_denied(redis, test_data_user, denied);
    }
    EXPECT_TRUE(redis.command({"PING"}).is_status("PONG")) << "a refused SHUTDOWN must leave Redis running";
}

TEST(RedisAcl, TheCoordinatorUserRunsTheElectionAndTouchesNoKey) {
    RedisServer redis(free_port_block(1), RedisStart::replica_of_nowhere);
    ASSERT_TRUE(redis.command({"SET", "k", "v"}).is_error_reply()) << "a replica of nowhere refuses writes";
    EXPECT_TRUE(redis.command_as(test_coordinator_user, {"PING"}).is_status("PONG"));
    EXPECT_NE(redis.command_as(test_coordinator_user, {"INFO", "replication"}).text().value_or("").find("role:"),
              std::string::npos);
    EXPECT_TRUE(redis.command_as(test_coordinator_user, {"REPLICAOF", "NO", "ONE"}).is_status("OK"));
    ASSERT_TRUE(redis.command({"SET", "k", "v"}).is_status("OK"));
    for (const std::vector<std::string>& denied : std::vector<std::vector<std::string>>{
             {"GET", "k"}, {"SET", "k", "x"}, {"DEL", "k"}, {"SCAN", "0"}, {"KEYS", "*"}, {"DUMP", "k"},
             {"FLUSHALL"}, {"CONFIG", "GET", "*"}, {"ACL", "LIST"}, {"WAIT", "0", "0"}}) {
        expect_denied(redis, test_coordinator_user, denied);
    }
    EXPECT_EQ(redis.command({"GET", "k"}).text(), "v");
}

TEST(RedisAcl, TheReplicationUserOnlyReplicates) {
    RedisServer redis(free_port_block(1), RedisStart::master);
    EXPECT_TRUE(redis.command_as(test_replication_user, {"PING"}).is_status("PONG"));
    for (const std::vector<std::string>& denied : std::vector<std::vector<std::string>>{
             {"GET", "k"}, {"SET", "k", "x"}, {"INFO"}, {"REPLICAOF", "NO", "ONE"}, {"FLUSHALL"}}) {
        expect_denied(redis, test_replication_user, denied);
    }
}

TEST(RedisAcl, AFollowerSyncsFromTheLeaderAsTheReplicationUser) {
    const int base = free_port_block(2);
    RedisServer leader(base, RedisStart::master);
    RedisServer follower(base + 1, RedisStart::replica_of_nowhere);
    ASSERT_TRUE(leader.command_as(test_data_user, {"SET", "before", "1"}).is_status("OK"));
    ASSERT_TRUE(follower.command_as(test_coordinator_user, {"REPLICAOF", "127.0.0.1", std::to_string(base)})
                    .is_status("OK"));
    ASSERT_TRUE(wait_until(
        [&] {
            return follower.command({"INFO", "replication"}).text().value_or("").find("master_link_status:up") !=
                   std::string::npos;
        },
        10000ms))
        << follower.command({"INFO", "replication"}).text().value_or("");
    ASSERT_TRUE(leader.command_as(test_data_user, {"SET", "after", "2"}).is_status("OK"));
    EXPECT_EQ(leader.command_as(test_data_user, {"WAIT", "1", "2000"}).integer(), 1);
    EXPECT_EQ(follower.command_as(test_data_user, {"GET", "before"}).text(), "1");
    EXPECT_EQ(follower.command_as(test_data_user, {"GET", "after"}).text(), "2");
    const std::string clients = leader.command({"CLIENT", "LIST", "TYPE", "replica"}).text().value_or("");
    EXPECT_NE(clients.find("user=cdb-replication"), std::string::npos) << clients;
}

TEST(RedisAcl, AServiceWithoutItsPasswordExitsNamingTheVariable) {
    const std::map<std::string, std::string> env{{"CLUSTER_HOST_TEMPLATE", "127.0.0.1"}, {"CLUSTER_SIZE", "1"},
                                                 {"CLUSTER_INDEX", "0"}, {"REDIS_DATA_PASSWORD", "short"}};
    ChildProcess slave("slave", {SLAVE_BINARY}, env);
    EXPECT_EQ(slave.wait_exit(5000ms), 2);
    EXPECT_NE(slave.log().find("REDIS_DATA_PASSWORD"), std::string::npos) << slave.log();
    EXPECT_EQ(slave.log().find("short"), std::string::npos) << "the error shows the value";
    ChildProcess lb("lb", {LB_BINARY}, {{"CLUSTER_HOST_TEMPLATE", "127.0.0.1"}, {"CLUSTER_SIZE", "1"}});
    EXPECT_EQ(lb.wait_exit(5000ms), 2);
    EXPECT_NE(lb.log().find("REDIS_COORDINATOR_PASSWORD"), std::string::npos) << lb.log();
}

}  // namespace
}  // namespace cdb::test
