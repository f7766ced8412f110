#include "summary.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cdb::bench {

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const double rank = std::clamp(p, 0.0, 1.0) * static_cast<double>(values.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(rank));
    const auto above = std::min(below + 1, values.size() - 1);
    return values[below] + (values[above] - values[below]) * (rank - static_cast<double>(below));
}

Summary summarize(const std::vector<double>& values) {
    if (values.empty()) return {};
    return {percentile(values, 0), percentile(values, 0.5),
            std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size()),
            percentile(values, 0.9), percentile(values, 1)};
}

}  // namespace cdb::bench
