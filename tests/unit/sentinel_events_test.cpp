#include <gtest/gtest.h>

#include "sentinel_events.h"

using namespace std::chrono_literals;
using cdb::bench::parse_sentinel_events;
using cdb::bench::sentinel_failovers;

namespace {

// Lines of two sentinels' logs from a run where one of them failed over the master it had just
// switched to (26102) while that master was alive, as the bench concatenates them: by sentinel,
// not by time.
const char* const logs =
    "16549:X 28 Nov 2026 22:30:58.174 * Running mode=sentinel, port=26107.\n"
    "16549:X 28 Nov 2026 22:31:11.436 # +switch-master bench 127.0.0.1 26103 127.0.0.1 26102\n"
    "16549:X 28 Nov 2026 22:31:12.453 # +sdown master bench 127.0.0.1 26102\n"
    "16549:X 28 Nov 2026 22:31:12.453 # +odown master bench 127.0.0.1 26102 #quorum 3/2\n"
    "16549:X 28 Nov 2026 22:31:12.533 # +elected-leader master bench 127.0.0.1 26102\n"
    "16549:X 28 Nov 2026 22:31:12.593 # +selected-slave slave 127.0.0.1:26104 127.0.0.1 26104 @ bench 127.0.0.1 26102\n"
    "16548:X 28 Nov 2026 22:31:10.398 # +elected-leader master bench 127.0.0.1 26103\n"
    "16548:X 28 Nov 2026 22:31:10.489 # +selected-slave slave 127.0.0.1:26102 127.0.0.1 26102 @ bench 127.0.0.1 26103\n"
    "16548:X 28 Nov 2026 22:31:23.696 * +convert-to-slave slave 127.0.0.1:26102 127.0.0.1 26102 @ bench 127.0.0.1 26104\n";

}  // namespace

TEST(SentinelEvents, EventsAreInTimeOrderAndOtherLinesAreSkipped) {
    const auto events = parse_sentinel_events(logs);
    ASSERT_EQ(events.size(), 8u);
    EXPECT_EQ(events.front().sentinel, 16548);
    EXPECT_EQ(events.front().name, "+elected-leader");
    EXPECT_EQ(events[2].name, "+switch-master");
    EXPECT_EQ(events[2].at - events.front().at, 1038ms);
    EXPECT_EQ(events.back().name, "+convert-to-slave");
}

TEST(SentinelEvents, FailoversNameTheirMasterTheReplicaPromotedAndWhatPrecededThem) {
    const auto failovers = sentinel_failovers(parse_sentinel_events(logs));
    ASSERT_EQ(failovers.size(), 2u);
    EXPECT_EQ(failovers[0].old_master, 26103);
    EXPECT_EQ(failovers[0].promoted, 26102);
    EXPECT_FALSE(failovers[0].down_after_switch.has_value());  // its switch is not in these lines
    EXPECT_FALSE(failovers[0].demoted_after.has_value());

    EXPECT_EQ(failovers[1].leader, 16549);
    EXPECT_EQ(failovers[1].old_master, 26102);
    EXPECT_EQ(failovers[1].promoted, 26104);
    EXPECT_EQ(failovers[1].down_after_switch, 1017ms);
    EXPECT_EQ(failovers[1].demoted_after, 11163ms);
}
