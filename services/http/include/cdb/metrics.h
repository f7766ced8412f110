#pragma once
// Counters and gauges in Prometheus text format. Counter names carry their labels
// (`requests_total{route="get",status="200"}`) so one map serves every family.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace cdb {

class Metrics {
public:
    explicit Metrics(std::string prefix) : prefix_(std::move(prefix)) {}

    void describe(const std::string& family, const std::string& type, const std::string& help);
    void add(const std::string& family, const std::string& labels, std::uint64_t amount = 1);
    // Replaces every labelled value of a gauge family (a cluster that left must not linger).
    void replace_all(const std::string& family, std::map<std::string, std::uint64_t> by_labels);
    // A value read at render time: a gauge, or a counter kept elsewhere.
    void sampled(const std::string& family, const std::string& type, const std::string& help,
                 std::function<double()> read);
    // A histogram with fixed upper bounds (ascending); observe() files a value under them.
    void histogram(const std::string& family, const std::string& help, std::vector<double> bounds);
    void observe(const std::string& family, double value);
    std::string render() const;

private:
    struct Family {
        std::string type;
        std::string help;
        std::map<std::string, std::uint64_t> by_labels;
        std::function<double()> read;  // sampled families only
        std::vector<double> bounds;     // histograms only
        std::vector<std::uint64_t> bucket_counts;
        double sum = 0;
        std::uint64_t count = 0;
    };
    static void render_histogram(std::ostream& out, const std::string& full, const Family& family);
    std::string prefix_;
    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
};

// `key="value"` with the value escaped as Prometheus requires.
std::string label(const std::string& key, const std::string& value);

}  // namespace cdb
