// A slave's readiness rule (services/slave/readiness.h): Ready only as the leader or as a follower
// whose Redis replicates the leader's on a live link and is caught up.
#include <gtest/gtest.h>

#include "readiness.h"

namespace cdb::slave {
namespace {

const Endpoint leader_redis{"slave-0.slave", 6379};

ReplicationInfo replica_of(const Endpoint& master, std::int64_t offset, bool link_up = true, bool syncing = false) {
    ReplicationInfo info;
    info.role = "slave";
    info.offset = offset;
    info.master_host = master.host;
    info.master_port = master.port;
    info.master_link_up = link_up;
    info.sync_in_progress = syncing;
    return info;
}

ReplicationInfo master(std::int64_t offset) {
    ReplicationInfo info;
    info.role = "master";
    info.offset = offset;
    return info;
}

// Cluster 1 following leader 0 at term 3, with the leader's Redis at `leader_offset`.
ReadinessFacts follower(const ReplicationInfo& own, std::int64_t leader_offset = 5000) {
    ReadinessFacts facts;
    facts.own_index = 1;
    facts.state = AnnouncedLeader{3, 0, 1};
    facts.leader_redis = leader_redis;
    facts.own = own;
    facts.leader = master(leader_offset);
    return facts;
}

TEST(CaughtUp, NeedsALiveLinkNoFullSyncAndALagWithinTheBound) {
    EXPECT_TRUE(caught_up(replica_of(leader_redis, 1000), 1000, 0));
    EXPECT_TRUE(caught_up(replica_of(leader_redis, 1000), 1100, 100));
    EXPECT_FALSE(caught_up(replica_of(leader_redis, 1000), 1101, 100));
    EXPECT_FALSE(caught_up(replica_of(leader_redis, 1000, false), 1000, 100));
    EXPECT_FALSE(caught_up(replica_of(leader_redis, 1000, true, true), 1000, 100));
    EXPECT_FALSE(caught_up(master(1000), 1000, 100));
}

TEST(Readiness, NoLeaderKnownIsNotReady) {
    ReadinessFacts facts;  // term 0: a slave that just started
    facts.own = master(0);
    const Readiness verdict = judge_readiness(facts);
    EXPECT_FALSE(verdict.ready);
    EXPECT_NE(verdict.reason.find("term 0"), std::string::npos) << verdict.reason;
}

TEST(Readiness, TheLeaderIsReadyOnceItsRedisIsAMaster) {
    ReadinessFacts facts;
    facts.own_index = 0;
    facts.state = AnnouncedLeader{2, 0, 0};
    facts.leader_redis = leader_redis;
    facts.own = master(10);
    facts.leader = master(10);  // the same Redis, through the data path
    EXPECT_TRUE(judge_readiness(facts).ready);
    facts.leader.reset();
    facts.leader_problem = "WRONGPASS";
    EXPECT_FALSE(judge_readiness(facts).ready);
    facts.leader = master(10);
    facts.own = replica_of(Endpoint{"127.0.0.1", 1}, 0, false);  // not promoted yet
    EXPECT_FALSE(judge_readiness(facts).ready);
    facts.own.reset();
    facts.own_problem = "connection refused";
    const Readiness verdict = judge_readiness(facts);
    EXPECT_FALSE(verdict.ready);
    EXPECT_NE(verdict.reason.find("connection refused"), std::string::npos) << verdict.reason;
}

TEST(Readiness, AFollowerIsReadyWhenItsRedisHasCaughtUpWithTheLeaders) {
    const Readiness verdict = judge_readiness(follower(replica_of(leader_redis, 4990)));
    EXPECT_TRUE(verdict.ready) << verdict.reason;
    EXPECT_EQ(verdict.lag_bytes, 10);
}

TEST(Readiness, AFollowerThatIsNotYetACopyOfTheLeaderIsNotReady) {
    // A fresh Redis: still the placeholder replica it starts as, or a master of its own.
    EXPECT_FALSE(judge_readiness(follower(replica_of(Endpoint{"127.0.0.1", 1}, 0, false))).ready);
    EXPECT_FALSE(judge_readiness(follower(master(0))).ready);
    // Replicating the former leader.
    EXPECT_FALSE(judge_readiness(follower(replica_of(Endpoint{"slave-2.slave", 6379}, 5000))).ready);
    // Pointed at the leader, still copying the snapshot or with the link down.
    EXPECT_FALSE(judge_readiness(follower(replica_of(leader_redis, 0, false, true))).ready);
    EXPECT_FALSE(judge_readiness(follower(replica_of(leader_redis, 5000, false))).ready);
}

TEST(Readiness, AFollowerFurtherBehindThanTheBoundIsNotReady) {
    const Readiness behind = judge_readiness(follower(replica_of(leader_redis, 1000), 1000 + ready_max_lag_bytes + 1));
    EXPECT_FALSE(behind.ready);
    EXPECT_EQ(behind.lag_bytes, ready_max_lag_bytes + 1);
    EXPECT_TRUE(judge_readiness(follower(replica_of(leader_redis, 1000), 1000 + ready_max_lag_bytes)).ready);
}

TEST(Readiness, AFollowerCannotBeReadyWithoutTheLeadersOffset) {
    ReadinessFacts facts = follower(replica_of(leader_redis, 5000));
    facts.leader.reset();
    facts.leader_problem = "timeout";
    EXPECT_FALSE(judge_readiness(facts).ready);
    facts.leader = replica_of(Endpoint{"127.0.0.1", 1}, 0, false);  // the leader's Redis restarted empty
    EXPECT_FALSE(judge_readiness(facts).ready);
}

}  // namespace
}  // namespace cdb::slave
