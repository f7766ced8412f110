#include "outlier_guard.h"

#include <gtest/gtest.h>

namespace cdb::lb {
namespace {

using namespace std::chrono_literals;
const OutlierGuard::Clock::time_point t0{};

TEST(OutlierGuard, ASlaveThatMissedADeadlineGetsNothingUntilItsEjectionEnds) {
    OutlierGuard guard(1000ms, 150ms);
    EXPECT_TRUE(guard.admits(2, t0 + 1ms));
    guard.on_missed_deadline(2, t0 + 10ms);
    EXPECT_FALSE(guard.admits(2, t0 + 20ms));
    EXPECT_FALSE(guard.admits(2, t0 + 1009ms));
    EXPECT_TRUE(guard.admits(1, t0 + 20ms)) << "only the slave that missed it";
}

TEST(OutlierGuard, AfterTheEjectionOneRequestTriesItAndAnAnswerBringsItBack) {
    OutlierGuard guard(1000ms, 150ms);
    guard.on_missed_deadline(2, t0);
    EXPECT_TRUE(guard.admits(2, t0 + 1000ms)) << "the trial";
    EXPECT_FALSE(guard.admits(2, t0 + 1001ms)) << "a second request while the trial is out";
    guard.on_answer(2);
    EXPECT_TRUE(guard.admits(2, t0 + 1002ms));
    EXPECT_TRUE(guard.admits(2, t0 + 1003ms));
}

TEST(OutlierGuard, ATrialThatMissesItsDeadlineEjectsAgain) {
    OutlierGuard guard(1000ms, 150ms);
    guard.on_missed_deadline(2, t0);
    ASSERT_TRUE(guard.admits(2, t0 + 1000ms));
    guard.on_missed_deadline(2, t0 + 1150ms);
    EXPECT_FALSE(guard.admits(2, t0 + 2000ms));
    EXPECT_TRUE(guard.admits(2, t0 + 2150ms));
}

TEST(OutlierGuard, ATrialThatNeverConcludesIsRetriedAfterItsDeadline) {
    OutlierGuard guard(1000ms, 150ms);
    guard.on_missed_deadline(2, t0);
    ASSERT_TRUE(guard.admits(2, t0 + 1000ms));
    EXPECT_FALSE(guard.admits(2, t0 + 1100ms));
    EXPECT_TRUE(guard.admits(2, t0 + 1150ms));
}

}  // namespace
}  // namespace cdb::lb
