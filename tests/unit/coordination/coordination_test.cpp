// Edge cases of the pieces, asserted directly; whole scenarios live in testdata/*.txt.
#include <gtest/gtest.h>

#include <stdexcept>

#include "cdb/coordination/coordinator.h"
#include "cdb/coordination/leader_election.h"
#include "cdb/coordination/membership.h"
#include "cdb/coordination/redis_topology.h"

namespace cdb::coordination {
namespace {

RedisInfo master(std::int64_t offset) {
    return RedisInfo{RedisRole::master, no_cluster, offset};
}

RedisInfo replica_of(int leader, std::int64_t offset) {
    return RedisInfo{RedisRole::replica, leader, offset};
}

// A cluster's slave and Redis answering together (the slave's first, as scenario files feed them).
struct BothProbes {
    int index;
    std::optional<LeaderState> slave;
    std::optional<RedisInfo> redis;
    std::optional<std::uint64_t> lease_nonce = std::nullopt;
};

BothProbes probe(int index, std::optional<LeaderState> slave, std::optional<RedisInfo> redis) {
    return BothProbes{index, slave, redis};
}

SlaveProbe slave_part(const BothProbes& probes) {
    SlaveProbe probe;
    probe.index = probes.index;
    probe.state = probes.slave;
    probe.lease_nonce = probes.lease_nonce;
    return probe;
}

RedisProbe redis_part(const BothProbes& probes) { return RedisProbe{probes.index, probes.redis}; }

// What the slave's probe changed, once its Redis's probe is recorded too.
UpstreamChange record(Membership& membership, const BothProbes& probes) {
    membership.record_redis_probe(redis_part(probes));
    return membership.record_slave_probe(slave_part(probes));
}

// Both parts' decisions, as one.
Decisions feed(Coordinator& coordinator, const BothProbes& probes, Millis sent_at, Millis now) {
    Decisions decisions = coordinator.on_slave_probe(slave_part(probes), sent_at, now);
    Decisions redis = coordinator.on_redis_probe(redis_part(probes), sent_at, now);
    if (redis.elected) decisions.elected = redis.elected;
    decisions.redis.insert(decisions.redis.end(), redis.redis.begin(), redis.redis.end());
    if (redis.announce) decisions.announce = redis.announce;
    decisions.admit.insert(decisions.admit.end(), redis.admit.begin(), redis.admit.end());
    decisions.eject.insert(decisions.eject.end(), redis.eject.begin(), redis.eject.end());
    decisions.drained.insert(decisions.drained.end(), redis.drained.begin(), redis.drained.end());
    return decisions;
}

TEST(ChooseLeader, HighestOffsetWinsAndTiesGoToLowestIndex) {
    const std::vector<Candidate> candidates{{3, 90}, {2, 120}, {1, 120}};
    EXPECT_EQ(choose_leader(candidates, ReplicationMode::async), 1);
    EXPECT_EQ(choose_leader(candidates, ReplicationMode::sync), 1);
}

TEST(ChooseLeader, ModeNoneIgnoresOffsets) {
    EXPECT_EQ(choose_leader({{3, 500}, {2, 0}, {4, 900}}, ReplicationMode::none), 2);
}

TEST(ChooseLeader, NoCandidateNoLeader) {
    EXPECT_EQ(choose_leader({}, ReplicationMode::sync), std::nullopt);
}

TEST(RepairOrder, FollowerThatIsMasterIsRepointed) {
    EXPECT_EQ(repair_order(2, master(10), 1, ReplicationMode::async), (ReplicaOf{2, 1}));
    EXPECT_EQ(repair_order(2, replica_of(0, 10), 1, ReplicationMode::sync), (ReplicaOf{2, 1}));
    EXPECT_EQ(repair_order(2, replica_of(1, 10), 1, ReplicationMode::sync), std::nullopt);
}

TEST(RepairOrder, LeaderAndModeNoneAreMasters) {
    EXPECT_EQ(repair_order(1, replica_of(0, 10), 1, ReplicationMode::async), (ReplicaOf{1, std::nullopt}));
    EXPECT_EQ(repair_order(2, replica_of(1, 10), 1, ReplicationMode::none), (ReplicaOf{2, std::nullopt}));
    EXPECT_EQ(repair_order(2, master(10), 1, ReplicationMode::none), std::nullopt);
}

TEST(RepairOrder, UnreachableRedisGetsNoOrder) {
    EXPECT_EQ(repair_order(2, std::nullopt, 1, ReplicationMode::async), std::nullopt);
}

TEST(Membership, EjectsAfterConsecutiveFailuresAndReadmitsOnPassingProbe) {
    Membership membership(3);
    membership.set_present({0});
    EXPECT_EQ(record(membership, probe(0, LeaderState{1, 0}, master(0))), UpstreamChange::admitted);
    EXPECT_EQ(membership.record_forward_failure(0), UpstreamChange::none);
    EXPECT_EQ(record(membership, probe(0, std::nullopt, master(0))), UpstreamChange::none);
    EXPECT_EQ(membership.record_forward_failure(0), UpstreamChange::ejected);
    EXPECT_EQ(membership.ready_clusters(), std::vector<int>{});
    EXPECT_EQ(membership.record_forward_failure(0), UpstreamChange::none);
    EXPECT_EQ(record(membership, probe(0, LeaderState{1, 0}, master(0))), UpstreamChange::admitted);
    EXPECT_EQ(membership.ready_clusters(), std::vector<int>{0});
}

TEST(Membership, NeverAnsweredSlaveIsNotReady) {
    Membership membership(3);
    membership.set_present({0, 1});
    record(membership, probe(0, std::nullopt, master(0)));
    EXPECT_EQ(membership.ready_clusters(), std::vector<int>{});
    EXPECT_TRUE(membership.find(0)->probed());
    EXPECT_FALSE(membership.all_probed());
}

TEST(Membership, KeepsStateOfStayingClustersAndForgetsRemovedOnes) {
    Membership membership(3);
    membership.set_present({0, 1});
    record(membership, probe(1, LeaderState{1, 0}, replica_of(0, 7)));
    membership.set_present({1, 2});
    EXPECT_EQ(membership.indices(), (std::vector<int>{1, 2}));
    EXPECT_EQ(membership.find(1)->redis->offset, 7);
    EXPECT_FALSE(membership.find(2)->probed());
    EXPECT_EQ(record(membership, probe(0, LeaderState{1, 0}, master(0))), UpstreamChange::none);
    EXPECT_FALSE(membership.contains(0));
}

// An established system: term 1, leader 0, clusters 1 and 2 replicating it, probed at time 0.
class EstablishedCoordinator : public ::testing::Test {
protected:
    EstablishedCoordinator() : coordinator_(async_config()) {
        coordinator_.on_membership({0, 1, 2}, 0);
        feed(coordinator_, probe(0, LeaderState{1, 0}, master(100)), 0, 0);
        feed(coordinator_, probe(1, LeaderState{1, 0}, replica_of(0, 100)), 0, 0);
        feed(coordinator_, probe(2, LeaderState{1, 0}, replica_of(0, 90)), 0, 0);
    }

    static Config async_config() {
        Config config;
        config.mode = ReplicationMode::async;
        // The leases an earlier LB run may have granted would hold every election here back until
        // 511 ms; leases have their own tests (testdata/leases.txt, FailoverWithLeasesStaysUnderASecond).
        config.lease_ms = 1;
        return config;
    }

    // One probe round at `now` with the followers alive and, last, the leader's Redis dead.
    Decisions round_with_dead_leader(Millis now) {
        feed(coordinator_, probe(1, LeaderState{1, 0}, replica_of(0, 100)), now, now);
        feed(coordinator_, probe(2, LeaderState{1, 0}, replica_of(0, 90)), now, now);
        return feed(coordinator_, probe(0, LeaderState{1, 0}, std::nullopt), now, now);
    }

    Coordinator coordinator_;
};

TEST_F(EstablishedCoordinator, RecoversWithoutElection) {
    EXPECT_FALSE(coordinator_.status().recovering);
    EXPECT_EQ(coordinator_.leader_state(), (LeaderState{1, 0}));
    EXPECT_EQ(coordinator_.status().elections, 0);
    EXPECT_EQ(coordinator_.status().followers, 2);
}

// The failover target (docs/ELECTION.md): leader death to new leader under 1 s with 200 ms probes
// and threshold 3.
TEST_F(EstablishedCoordinator, ProbesAloneElectWithinThreeIntervals) {
    const Millis death = 1001;  // just after the passing probe at 1000
    for (Millis now = 200; now <= 1000; now += 200) {
        feed(coordinator_, probe(0, LeaderState{1, 0}, master(100)), now, now);
    }
    EXPECT_FALSE(round_with_dead_leader(1200).elected);
    EXPECT_FALSE(round_with_dead_leader(1400).elected);
    const Decisions decisions = round_with_dead_leader(1600);
    ASSERT_TRUE(decisions.elected);
    EXPECT_EQ(decisions.elected->state, (LeaderState{2, 1}));
    EXPECT_EQ(decisions.elected->started_at, 1200);
    EXPECT_LT(decisions.elected->ended_at - death, 1000);
}

TEST_F(EstablishedCoordinator, BurstOfReportsIsOneFailureButReportsSpeedUpDetection) {
    for (int request = 0; request < 64; ++request) {
        coordinator_.on_leader_failure(LeaderFailureReport{1 + request % 2, 1}, 2 + request);
    }
    EXPECT_EQ(coordinator_.status().leader_failures, 1);
    round_with_dead_leader(200);  // same interval as the burst: still one failure
    EXPECT_EQ(coordinator_.status().leader_failures, 1);
    coordinator_.on_leader_failure(LeaderFailureReport{2, 1}, 201);
    round_with_dead_leader(400);
    const Decisions decisions = coordinator_.on_leader_failure(LeaderFailureReport{1, 1}, 401);
    ASSERT_TRUE(decisions.elected);
    EXPECT_EQ(decisions.elected->started_at, 2);
    EXPECT_EQ(decisions.elected->ended_at, 401);
}

TEST_F(EstablishedCoordinator, ReportsForAnotherTermOrFromStrangersDoNotCount) {
    coordinator_.on_leader_failure(LeaderFailureReport{1, 0}, 10);
    coordinator_.on_leader_failure(LeaderFailureReport{1, 2}, 20);
    coordinator_.on_leader_failure(LeaderFailureReport{7, 1}, 30);
    EXPECT_EQ(coordinator_.status().leader_failures, 0);
}

TEST_F(EstablishedCoordinator, SlaveBehindGetsItsOwnAnnouncementAndTermStays) {
    const Decisions decisions =
        feed(coordinator_, probe(2, LeaderState{0, no_cluster}, replica_of(0, 90)), 100, 100);
    ASSERT_TRUE(decisions.announce);
    EXPECT_EQ(decisions.announce->to, std::vector<int>{2});
    EXPECT_EQ(decisions.announce->state, (LeaderState{1, 0}));
    EXPECT_EQ(coordinator_.leader_state(), (LeaderState{1, 0}));
}

TEST_F(EstablishedCoordinator, HigherTermFromASlaveIsAdoptedNotElected) {
    const Decisions decisions = coordinator_.on_slave_state(1, LeaderState{5, 2}, 100);
    EXPECT_FALSE(decisions.elected);
    EXPECT_EQ(coordinator_.leader_state(), (LeaderState{5, 2}));
    ASSERT_TRUE(decisions.announce);
    EXPECT_EQ(decisions.announce->to, (std::vector<int>{0, 1, 2}));
}

TEST_F(EstablishedCoordinator, DrainingAFollowerIsDrainedAtOnce) {
    EXPECT_EQ(coordinator_.on_drain_requested(2, 100).drained, std::vector<int>{2});
    EXPECT_TRUE(coordinator_.drained(2));
    EXPECT_EQ(coordinator_.ready_clusters(), (std::vector<int>{0, 1}));
    coordinator_.on_drain_cancelled(2, 200);
    EXPECT_FALSE(coordinator_.drained(2));
    EXPECT_FALSE(coordinator_.drained(7));
}

TEST_F(EstablishedCoordinator, ProbeSentBeforeAnOrderDoesNotRepeatIt) {
    const Decisions first = feed(coordinator_, probe(2, LeaderState{1, 0}, master(0)), 200, 210);
    EXPECT_EQ(first.redis, (std::vector<ReplicaOf>{{2, 0}}));
    // Sent before the order went out, answered after: it cannot show the order's effect.
    EXPECT_TRUE(feed(coordinator_, probe(2, LeaderState{1, 0}, master(0)), 205, 230).redis.empty());
    // Sent after: the order did not take, so it is given again.
    EXPECT_EQ(feed(coordinator_, probe(2, LeaderState{1, 0}, master(0)), 400, 410).redis,
              (std::vector<ReplicaOf>{{2, 0}}));
}

// The failover target with leases granted on every round, as the LB does, and the slaves' reports
// of a dead leader under traffic: the last lease rests on the nonce of the last passing round, and
// the election comes as soon as it has ended, well within a second of the death.
TEST(Coordinator, FailoverWithLeasesStaysUnderASecond) {
    Config config;
    config.mode = ReplicationMode::async;
    Coordinator coordinator(config);
    coordinator.on_membership({0, 1, 2}, 0);
    std::uint64_t nonce = 0;
    const auto round = [&](Millis now, bool leader_alive) {
        Decisions last;
        for (int index : {1, 2, 0}) {
            BothProbes answer = probe(index, LeaderState{1, 0}, index == 0 ? master(100) : replica_of(0, 100));
            if (index == 0 && !leader_alive) answer.redis.reset();
            answer.lease_nonce = ++nonce;
            last = feed(coordinator, answer, now, now);
        }
        for (int index : {0, 1, 2}) coordinator.grant_lease(index, now);
        return last;
    };
    for (Millis now = 0; now <= 1000; now += 200) round(now, true);
    ASSERT_TRUE(coordinator.grant_lease(1, 1000));
    const Millis death = 1001;
    // Reports count each interval at once: the third failure at 1401.
    coordinator.on_leader_failure(LeaderFailureReport{1, 1}, 1002);
    EXPECT_FALSE(coordinator.grant_lease(1, 1002));  // the leader is in doubt: no more leases
    EXPECT_FALSE(round(1200, false).elected);
    coordinator.on_leader_failure(LeaderFailureReport{2, 1}, 1201);
    EXPECT_FALSE(round(1400, false).elected);
    const Decisions reported = coordinator.on_leader_failure(LeaderFailureReport{1, 1}, 1401);
    EXPECT_EQ(coordinator.status().leader_failures, 3);
    // The last lease, on a nonce in at 1000, has ended by 1512 on the LB's clock: 111 ms more.
    ASSERT_FALSE(reported.elected);
    EXPECT_EQ(coordinator.wake_at(), 1512);
    EXPECT_FALSE(coordinator.on_tick(1511).elected);
    const Decisions elected = coordinator.on_tick(1512);
    ASSERT_TRUE(elected.elected);
    EXPECT_LT(elected.elected->ended_at - death, 1000);
}

TEST(Coordinator, DrainOfTheOnlyClusterWaitsForACandidate) {
    Config config;
    config.lease_ms = 1;  // an earlier LB run's leases are not what this is about
    Coordinator coordinator{config};
    coordinator.on_membership({0}, 0);
    feed(coordinator, probe(0, LeaderState{1, 0}, master(10)), 0, 0);
    EXPECT_TRUE(coordinator.on_drain_requested(0, 100).drained.empty());
    EXPECT_FALSE(coordinator.drained(0));
    ASSERT_TRUE(coordinator.status().pending);
    EXPECT_EQ(coordinator.status().pending->reason, ElectionReason::leader_drained);
    // A new cluster is still pointed at the draining leader, which serves until it is replaced.
    coordinator.on_membership({0, 1}, 200);
    const Decisions joined = feed(coordinator, probe(1, LeaderState{1, 0}, master(0)), 200, 200);
    EXPECT_EQ(joined.redis, (std::vector<ReplicaOf>{{1, 0}}));
    EXPECT_FALSE(joined.elected);
    const Decisions moved = feed(coordinator, probe(1, LeaderState{1, 0}, replica_of(0, 10)), 400, 400);
    ASSERT_TRUE(moved.elected);
    EXPECT_EQ(moved.elected->state, (LeaderState{2, 1}));
    EXPECT_EQ(moved.elected->started_at, 100);
    EXPECT_EQ(moved.drained, std::vector<int>{0});
}

TEST(Coordinator, StaysRecoveringWhileNoSlaveAnswers) {
    Coordinator coordinator{Config{}};
    coordinator.on_membership({0, 1}, 0);
    feed(coordinator, probe(0, std::nullopt, master(0)), 10, 10);
    feed(coordinator, probe(1, std::nullopt, master(0)), 10, 10);
    EXPECT_TRUE(coordinator.on_tick(5000).empty());
    EXPECT_TRUE(coordinator.status().recovering);
    const Decisions decisions = feed(coordinator, probe(1, LeaderState{0, no_cluster}, master(0)), 5200, 5200);
    ASSERT_TRUE(decisions.elected);
    EXPECT_EQ(decisions.elected->state, (LeaderState{1, 0}));
}

TEST(Coordinator, RejectsConfigOutOfRange) {
    Config config;
    config.failure_threshold = 0;
    EXPECT_THROW(Coordinator{config}, std::invalid_argument);
    config = Config{};
    config.reannounce_interval_ms = 0;
    EXPECT_THROW(Coordinator{config}, std::invalid_argument);
}

}  // namespace
}  // namespace cdb::coordination
