// The history check on hand-written histories: each rule of docs/CHAOS.md ("The check") has a
// history that must fail it and one that must not. Times are in microseconds.
#include "history_checker.h"

#include <gtest/gtest.h>

namespace cdb::chaos {
namespace {

constexpr Micros bound = 1000;

class Scenario {
public:
    Scenario& write(const std::string& key, const std::string& value, Micros start, Micros end, int status = 200,
                    const std::string& replication = "synced") {
        Write& write = add_write(key, value, start, end);
        write.outcome.status = status;
        if (status == 200) write.replication = replication;
        return *this;
    }
    Scenario& unanswered_write(const std::string& key, const std::string& value, Micros start, Micros end) {
        add_write(key, value, start, end).outcome.transport = "Read";
        return *this;
    }
    Scenario& read(const std::string& key, std::optional<std::string> value, Micros start, Micros end) {
        Read& read = add_read(key, start, end);
        read.outcome.status = value ? 200 : 404;
        read.value = std::move(value);
        return *this;
    }
    Scenario& failed_read(const std::string& key, int status, Micros start, Micros end) {
        add_read(key, start, end).outcome.status = status;
        return *this;
    }
    Scenario& final(const std::string& key, std::optional<std::string> value) {
        finals_.push_back({key, true, std::move(value)});
        return *this;
    }
    Scenario& final_failed(const std::string& key) {
        finals_.push_back({key, false, std::nullopt});
        return *this;
    }
    CheckResult check() const { return HistoryChecker().check(history_, finals_, bound); }

private:
    Write& add_write(const std::string& key, const std::string& value, Micros start, Micros end) {
        Write& write = history_.writes.emplace_back();
        write.key = key;
        write.value = value;
        write.start = start;
        write.end = end;
        return write;
    }
    Read& add_read(const std::string& key, Micros start, Micros end) {
        Read& read = history_.reads.emplace_back();
        read.key = key;
        read.start = start;
        read.end = end;
        return read;
    }

    History history_;
    std::vector<FinalRead> finals_;
};

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
    ASSERT_EQ(result.problems.size(), 1u);
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
