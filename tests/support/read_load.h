#pragma once
// Keep-alive clients reading one key through the LB until stopped: what a gray-failure test holds
// against (a frozen or throttled process must cost no request, and no request much time), and what
// bench/gray_bench measures the same faults with.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "local_system.h"

namespace cdb::test {

class ReadLoad {
public:
    // An answer slower than this, once a fault's first moments are past, is one the issue counts
    // (issue 20: "no request slower than 250 ms after the first 250 ms of a fault").
    static constexpr auto slow_answer = std::chrono::milliseconds(250);

    // `clients` threads, each on its own kept-alive connection, GET /get/`key` in a loop.
    ReadLoad(const LocalSystem& system, int clients, std::string key);
    // The same against any LB on 127.0.0.1:`port` (a system the launcher started).
    ReadLoad(int port, int clients, std::string key);
    ~ReadLoad();
    ReadLoad(const ReadLoad&) = delete;
    ReadLoad& operator=(const ReadLoad&) = delete;

    // From now on the slowest answer, and the answers over slow_answer, are counted afresh (e.g.
    // once a fault's first moments are past).
    void restart_slowest();
    void stop();  // joins the clients; the figures below are final after it

    int reads() const { return reads_; }
    int failures() const { return failures_; }
    long long slowest_ms() const { return slowest_ms_; }             // since restart_slowest()
    long long slowest_overall_ms() const { return slowest_overall_ms_; }
    int slow_answers() const { return slow_answers_; }                // since restart_slowest()
    // Failed reads by status ("503") or transport error ("no answer: Read").
    std::map<std::string, int> failures_by_kind() const;
    // When the first and the last failed read ended (nullopt: none failed), to set them against a
    // fault's timeline.
    std::optional<std::chrono::steady_clock::time_point> first_failure() const;
    std::optional<std::chrono::steady_clock::time_point> last_failure() const;
    // "reads, failures, slowest" and up to a few failed answers (status and body), for messages.
    std::string summary() const;

private:
    void read_loop(int port, const std::string& key);
    void note_failure(const std::string& kind, const std::string& what);

    std::atomic<bool> stop_{false};
    std::atomic<int> reads_{0};
    std::atomic<int> failures_{0};
    std::atomic<long long> slowest_ms_{0};
    std::atomic<long long> slowest_overall_ms_{0};
    std::atomic<int> slow_answers_{0};
    mutable std::mutex samples_mutex_;
    std::map<std::string, int> failure_samples_;
    std::map<std::string, int> failure_kinds_;
    std::optional<std::chrono::steady_clock::time_point> first_failure_, last_failure_;
    std::vector<std::thread> clients_;
};

}  // namespace cdb::test
