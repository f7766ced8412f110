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
    // A gauge read at render time.
    void gauge(const std::string& family, const std::string& help, std::function<double()> read);
    std::string render() const;

private:
    struct Family {
        std::string type;
        std::string help;
        std::map<std::string, std::uint64_t> by_labels;
        std::function<double()> read;  // gauges only
    };
    std::string prefix_;
    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
};

// `key="value"` with the value escaped as Prometheus requires.
std::string label(const std::string& key, const std::string& value);

}  // namespace cdb
