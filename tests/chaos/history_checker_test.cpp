// The history check on hand-written histories: each rule of docs/CHAOS.md ("The check") has a
// history that must fail it and one that must not. Times are in microseconds.
#include "history_checker.h"
#include "history_scenario.h"

#include <gtest/gtest.h>

namespace cdb::chaos {
namespace {

constexpr Micros bound = Scenario::bound;

TEST(HistoryChecker, LatestAcknowledgedWriteReadAtTheEndPasses) {
    auto result = Scenario().write("k", "a", 0, 10).write("k", "b", 20, 30).read("k", "b", 40, 50).final("k", "b").check();
    EXPECT_TRUE(result.passed());
    EXPECT_EQ(result.writes_synced, 2);
    EXPECT_EQ(result.reads, 1);
    EXPECT_EQ(result.operations(), 3);
    EXPECT_TRUE(result.problems.empty());
}

TEST(HistoryChecker, FinalValueOfAnOverwrittenWriteLosesTheLaterOne) {
    auto result = Scenario().write("k", "a", 0, 10).write("k", "b", 20, 30).final("k", "a").check();
    EXPECT_FALSE(result.passed());
    EXPECT_EQ(result.lost_synced, 1);
    EXPECT_EQ(result.linearizability.not_linearizable, 1);  // the same fault, seen by the search too
    ASSERT_EQ(result.problems.size(), 2u);
    EXPECT_NE(result.problems[0].find("k=b"), std::string::npos) << result.problems[0];
}

TEST(HistoryChecker, OnlyWritesAfterTheFinalValuesWriteAreLost) {
    auto result = Scenario().write("k", "a", 0, 10).write("k", "b", 20, 30).write("k", "c", 40, 50).final("k", "b").check();
    EXPECT_EQ(result.lost_synced, 1);
}

TEST(HistoryChecker, AbsentKeyAtTheEndLosesEveryAcknowledgedWrite) {
    auto result = Scenario().write("k", "a", 0, 10).write("k", "b", 20, 30).final("k", std::nullopt).check();
    EXPECT_FALSE(result.passed());
    EXPECT_EQ(result.lost_synced, 2);
}

TEST(HistoryChecker, ConcurrentWritesMayTakeEffectInEitherOrder) {
    for (const char* last : {"a", "b"}) {
        auto result = Scenario().write("k", "a", 0, 30).write("k", "b", 10, 20).final("k", last).check();
        EXPECT_TRUE(result.passed()) << "final " << last;
        EXPECT_EQ(result.lost_synced, 0);
    }
}

TEST(HistoryChecker, DegradedWritesMayBeLostButAreCounted) {
    auto result =
        Scenario().write("k", "a", 0, 10).write("k", "b", 20, 30, 200, "degraded").final("k", "a").check();
    EXPECT_TRUE(result.passed());
    EXPECT_EQ(result.lost_unprotected, 1);
    EXPECT_EQ(result.writes_unprotected, 1);
}

TEST(HistoryChecker, ASyncedWriteBehindALostDegradedOneIsLostToo) {
    // The degraded write overwrote the synced one, but the final value is older than both.
    auto result = Scenario()
                      .write("k", "a", 0, 10, 200, "degraded")
                      .write("k", "b", 20, 30)
                      .write("k", "c", 40, 50, 200, "degraded")
                      .final("k", std::nullopt)
                      .check();
    EXPECT_FALSE(result.passed());
    EXPECT_EQ(result.lost_synced, 1);
    EXPECT_EQ(result.lost_unprotected, 2);
}

TEST(HistoryChecker, AnUnacknowledgedWriteMayTakeEffectLate) {
    auto result = Scenario()
                      .write("k", "a", 0, 10)
                      .write("k", "u", 20, 25, 502)
                      .write("k", "b", 30, 40)
                      .read("k", "u", 50, 60)
                      .final("k", "u")
                      .check();
    EXPECT_TRUE(result.passed());
    EXPECT_EQ(result.final_from_unacknowledged, 1);
    EXPECT_EQ(result.writes_unacknowledged, 1);
    EXPECT_EQ(result.reads_stale, 0);
}

TEST(HistoryChecker, ReadOfAValueNeverWrittenFails) {
    auto result = Scenario().write("k", "a", 0, 10).read("k", "zzz", 20, 30).final("k", "a").check();
    EXPECT_FALSE(result.passed());
    EXPECT_EQ(result.reads_never_written, 1);
}

TEST(HistoryChecker, ReadOfAnotherKeysValueFails) {
    auto result = Scenario().write("k", "a", 0, 10).write("j", "b", 0, 10).read("k", "b", 20, 30).final("k", "a")
                      .final("j", "b").check();
    EXPECT_EQ(result.reads_never_written, 1);
}

TEST(HistoryChecker, ReadOfAValueBeforeItsWriteWasSentFails) {
    auto result = Scenario().read("k", "a", 0, 10).write("k", "a", 20, 30).final("k", "a").check();
    EXPECT_EQ(result.reads_never_written, 1);
}

TEST(HistoryChecker, FinalValueNeverWrittenFailsAndLosesEverything) {
    auto result = Scenario().write("k", "a", 0, 10).final("k", "zzz").check();
    EXPECT_FALSE(result.passed());
    EXPECT_EQ(result.reads_never_written, 1);
    EXPECT_EQ(result.lost_synced, 1);
}

TEST(HistoryChecker, AnUnacknowledgedValueMayBeRead) {
    auto result = Scenario().unanswered_write("k", "a", 0, 10).read("k", "a", 5, 20).final("k", "a").check();
    EXPECT_TRUE(result.passed());
    EXPECT_EQ(result.outcomes.at("no answer: Read").writes, 1);
}

TEST(HistoryChecker, ReadMissingASyncedWriteAcknowledgedBeforeItIsStale) {
    auto result = Scenario()
                      .write("k", "a", 0, 10)
                      .write("k", "b", 20, 30)
                      .read("k", "a", 25, 45)  // b was not acknowledged yet when this read was sent
                      .read("k", "a", 40, 45)
                      .final("k", "b")
                      .check();
    EXPECT_FALSE(result.passed());
    EXPECT_EQ(result.reads_stale, 1);
}

TEST(HistoryChecker, AbsentAfterASyncedWriteIsStale) {
    auto result = Scenario().write("k", "a", 0, 10).read("k", std::nullopt, 20, 30).final("k", "a").check();
    EXPECT_EQ(result.reads_stale, 1);
}

TEST(HistoryChecker, ReadMissingOnlyADegradedWriteIsNotStale) {
    auto result = Scenario()
                      .write("k", "a", 0, 10)
                      .write("k", "b", 20, 30, 200, "degraded")
                      .read("k", "a", 40, 45)
                      .final("k", "a")
                      .check();
    EXPECT_TRUE(result.passed());
    EXPECT_EQ(result.reads_stale, 0);
}

TEST(HistoryChecker, RequestLongerThanTheBoundFails) {
    auto result = Scenario().write("k", "a", 0, bound).read("k", "a", 2000, 2000 + bound + 1).final("k", "a").check();
    EXPECT_FALSE(result.passed());
    EXPECT_EQ(result.too_slow, 1);
    EXPECT_EQ(result.longest, bound + 1);
    EXPECT_NE(result.longest_request.find("read k"), std::string::npos) << result.longest_request;
}

TEST(HistoryChecker, ErrorsAreCountedByKindAndAllowed) {
    auto result = Scenario()
                      .write("k", "a", 0, 10, 503)
                      .failed_read("k", 503, 0, 10)
                      .failed_read("k", 502, 0, 10)
                      .final("k", std::nullopt)
                      .check();
    EXPECT_TRUE(result.passed());
    EXPECT_EQ(result.outcomes.at("503").reads, 1);
    EXPECT_EQ(result.outcomes.at("503").writes, 1);
    EXPECT_EQ(result.outcomes.at("502").reads, 1);
    EXPECT_EQ(result.writes_unacknowledged, 1);
}

TEST(HistoryChecker, UnreadableOrMissingFinalReadFails) {
    auto result = Scenario().write("k", "a", 0, 10).write("j", "b", 0, 10).final_failed("k").check();
    EXPECT_FALSE(result.passed());
    EXPECT_EQ(result.final_unreadable, 2);  // k failed, j was never read
}

}  // namespace
}  // namespace cdb::chaos
