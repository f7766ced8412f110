// The linearizability check on hand-written histories, first of all the one of issue 16 that the
// rules of history_checker.h let pass. Times are in microseconds.
#include "linearizability.h"

#include <gtest/gtest.h>

#include "history_scenario.h"

namespace cdb::chaos {
namespace {

LinearizabilityResult linearizability(const Scenario& scenario,
                                      std::chrono::milliseconds budget = std::chrono::seconds(5)) {
    return LinearizabilityChecker(budget, budget).check(scenario.history(), scenario.finals());
}

// A pause of the leader's Redis (issue 16): a write answered with an error took effect on the paused
// Redis, a read saw it once that Redis thawed, then the next read found an older value again.
Scenario issue_16_witness(int status_of_the_late_write) {
    return Scenario()
        .write("k7", "c10-968", 6857000, 6861000)
        .write("k7", "c9-918", 6860000, 7880000, status_of_the_late_write)
        .read("k7", "c9-918", 8077000, 10006000)
        .read("k7", "c10-968", 10084000, 10085000);
}

TEST(Linearizability, TheWitnessOfIssue16IsNotLinearizable) {
    const auto result = linearizability(issue_16_witness(503));
    EXPECT_EQ(result.not_linearizable, 1);
    ASSERT_EQ(result.problems.size(), 1u);
    EXPECT_NE(result.problems[0].find("k7"), std::string::npos) << result.problems[0];
    // The rules that name lost and stale writes see nothing wrong in it: only the search does.
    const CheckResult whole = issue_16_witness(503).check();
    EXPECT_EQ(whole.reads_stale + whole.lost_synced + whole.reads_never_written, 0);
    EXPECT_FALSE(whole.passed());
}

TEST(Linearizability, TheWitnessOfIssue16FailsEvenWhenTheErrorSaysTheOutcomeIsUnknown) {
    // Whatever the 504 did, the last read went back in time.
    EXPECT_EQ(linearizability(issue_16_witness(504)).not_linearizable, 1);
}

TEST(Linearizability, AWriteOfUnknownOutcomeMayTakeEffectLateOnce) {
    const auto result = linearizability(Scenario()
                                            .write("k", "a", 0, 10)
                                            .write("k", "b", 5, 1000, 504)
                                            .read("k", "a", 20, 30)
                                            .read("k", "b", 2000, 2010)
                                            .read("k", "b", 2020, 2030)
                                            .final("k", "b"));
    EXPECT_EQ(result.linearizable, 1);
    EXPECT_EQ(result.not_linearizable, 0);
}

TEST(Linearizability, AWriteRefusedBeforeSendingMustNotBeSeen) {
    EXPECT_EQ(linearizability(Scenario().write("k", "a", 0, 10, 503).read("k", "a", 20, 30)).not_linearizable, 1);
    EXPECT_EQ(linearizability(Scenario().write("k", "a", 0, 10, 400).final("k", "a")).not_linearizable, 1);
}

TEST(Linearizability, ConcurrentWritesTakeEffectInEitherOrderButOnlyOnce) {
    Scenario overlapping;
    overlapping.write("k", "a", 0, 100).write("k", "b", 50, 150);
    EXPECT_EQ(linearizability(Scenario(overlapping).read("k", "a", 200, 210).final("k", "a")).linearizable, 1);
    EXPECT_EQ(linearizability(Scenario(overlapping).read("k", "b", 200, 210).final("k", "b")).linearizable, 1);
    EXPECT_EQ(
        linearizability(Scenario(overlapping).read("k", "a", 200, 210).read("k", "b", 220, 230).read("k", "a", 240, 250))
            .not_linearizable,
        1);
}

TEST(Linearizability, AReadMayReturnTheValueOfAWriteStillInFlight) {
    EXPECT_EQ(linearizability(Scenario().write("k", "a", 0, 100).read("k", "a", 10, 20).read("k", "a", 30, 40))
                  .linearizable,
              1);
    EXPECT_EQ(linearizability(Scenario().write("k", "a", 0, 100).read("k", "a", 10, 20).read("k", std::nullopt, 30, 40))
                  .not_linearizable,
              1);
}

TEST(Linearizability, ALostSyncedWriteIsNotLinearizableALostDegradedOneIsCounted) {
    EXPECT_EQ(linearizability(Scenario().write("k", "a", 0, 10).final("k", std::nullopt)).not_linearizable, 1);
    const auto degraded =
        linearizability(Scenario().write("k", "a", 0, 10, 200, "degraded").read("k", std::nullopt, 20, 30));
    EXPECT_EQ(degraded.linearizable, 1);
    EXPECT_EQ(degraded.only_if_degraded_lost, 1);
}

TEST(Linearizability, KeysAreCheckedOnTheirOwn) {
    const auto result = linearizability(Scenario()
                                            .write("a", "1", 0, 10)
                                            .read("a", "1", 20, 30)
                                            .write("b", "2", 0, 10)
                                            .read("b", std::nullopt, 20, 30));
    EXPECT_EQ(result.keys, 2);
    EXPECT_EQ(result.linearizable, 1);
    EXPECT_EQ(result.not_linearizable, 1);
}

// Sixteen clients on one key, each write overlapping the others', 40 000 operations: the search
// follows the history instead of trying every order, well within its budget.
TEST(Linearizability, ALongBusyHistoryIsJudgedWithinItsBudget) {
    Scenario busy;
    constexpr int clients = 16;
    std::string latest;
    for (int step = 0; step < 40000 / clients; ++step) {
        const Micros base = step * 1000;
        for (int client = 0; client < clients; ++client) {
            const Micros start = base + client * 10;
            if (client % 2 == 0) {
                latest = "c" + std::to_string(client) + "-" + std::to_string(step);
                busy.write("k", latest, start, start + 300, client % 4 == 0 ? 200 : 504);
            } else {
                busy.read("k", latest, start, start + 300);
            }
        }
    }
    const auto started = std::chrono::steady_clock::now();
    const auto result = linearizability(busy.final("k", latest), std::chrono::seconds(20));
    EXPECT_EQ(result.linearizable, 1);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(Linearizability, ASearchOverItsBudgetSaysUnknown) {
    const auto result = linearizability(issue_16_witness(503), std::chrono::milliseconds(0));
    EXPECT_EQ(result.unknown, 1);
    EXPECT_EQ(result.not_linearizable, 0);
}

}  // namespace
}  // namespace cdb::chaos
