#pragma once
// Order statistics of a benchmark's samples. The harness (bench/run.sh) computes the same figures
// with the same interpolation, so a median here and in the table agree.
#include <vector>

namespace cdb::bench {

// The p-quantile (0 <= p <= 1) with linear interpolation between the closest ranks; 0 when empty.
double percentile(std::vector<double> values, double p);

struct Summary {
    double min = 0, median = 0, mean = 0, p90 = 0, max = 0;
};
Summary summarize(const std::vector<double>& values);

}  // namespace cdb::bench
