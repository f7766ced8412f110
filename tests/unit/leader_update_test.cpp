#include <gtest/gtest.h>

#include "leader_update.h"

namespace cdb {
namespace {

TEST(LeaderUpdate, AcceptsOnlyAHigherTermOrTheSameLeader) {
    AnnouncedLeader state;
    EXPECT_FALSE(state.known());
    EXPECT_EQ(apply_leader_update(state, {2, 1, 0}), LeaderUpdate::adopted);
    EXPECT_TRUE(state.known());
    EXPECT_EQ(apply_leader_update(state, {2, 1, 2}), LeaderUpdate::confirmed);
    EXPECT_EQ(state.followers, 2);
    EXPECT_EQ(apply_leader_update(state, {2, 0, 0}), LeaderUpdate::conflict);
    EXPECT_EQ(apply_leader_update(state, {1, 0, 0}), LeaderUpdate::stale);
    EXPECT_EQ(state.term, 2);
    EXPECT_EQ(state.leader, 1);
    EXPECT_EQ(state.followers, 2);
    EXPECT_EQ(apply_leader_update(state, {5, 0, 1}), LeaderUpdate::adopted);
    EXPECT_EQ(state.term, 5);
    EXPECT_EQ(state.leader, 0);
}

}  // namespace
}  // namespace cdb
