#include <gtest/gtest.h>

#include "summary.h"

using cdb::bench::percentile;
using cdb::bench::summarize;

TEST(BenchSummary, PercentileInterpolatesBetweenClosestRanks) {
    const std::vector<double> values{40, 10, 30, 20};  // unsorted on purpose
    EXPECT_DOUBLE_EQ(percentile(values, 0), 10);
    EXPECT_DOUBLE_EQ(percentile(values, 0.5), 25);
    EXPECT_DOUBLE_EQ(percentile(values, 0.9), 37);
    EXPECT_DOUBLE_EQ(percentile(values, 1), 40);
}

TEST(BenchSummary, MedianOfAnOddCountIsTheMiddleValue) {
    EXPECT_DOUBLE_EQ(percentile({3, 1, 2}, 0.5), 2);
}

TEST(BenchSummary, OneValueIsEveryPercentile) {
    const auto summary = summarize({7});
    EXPECT_DOUBLE_EQ(summary.min, 7);
    EXPECT_DOUBLE_EQ(summary.median, 7);
    EXPECT_DOUBLE_EQ(summary.p90, 7);
    EXPECT_DOUBLE_EQ(summary.max, 7);
}

TEST(BenchSummary, NoValuesGiveZeros) {
    EXPECT_DOUBLE_EQ(percentile({}, 0.5), 0);
    EXPECT_DOUBLE_EQ(summarize({}).mean, 0);
}

TEST(BenchSummary, SummaryHasTheMean) {
    EXPECT_DOUBLE_EQ(summarize({1, 2, 6}).mean, 3);
}
