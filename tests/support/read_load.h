#pragma once
// Keep-alive clients reading one key through the LB until stopped: what a gray-failure test holds
// against (a frozen or throttled process must cost no request, and no request much time).
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "local_system.h"

namespace cdb::test {

class ReadLoad {
public:
    // `clients` threads, each on its own kept-alive connection, GET /get/`key` in a loop.
    ReadLoad(const LocalSystem& system, int clients, std::string key);
    ~ReadLoad();
    ReadLoad(const ReadLoad&) = delete;
    ReadLoad& operator=(const ReadLoad&) = delete;

    // From now on the slowest answer is counted afresh (e.g. once a fault's first moments are past).
    void restart_slowest();
    void stop();  // joins the clients; the figures below are final after it

    int reads() const { return reads_; }
    int failures() const { return failures_; }
    long long slowest_ms() const { return slowest_ms_; }
    // "reads, failures, slowest" and up to a few failed answers (status and body), for messages.
    std::string summary() const;

private:
    void read_loop(const LocalSystem& system, const std::string& key);
    void note_failure(const std::string& what);

    std::atomic<bool> stop_{false};
    std::atomic<int> reads_{0};
    std::atomic<int> failures_{0};
    std::atomic<long long> slowest_ms_{0};
    mutable std::mutex samples_mutex_;
    std::map<std::string, int> failure_samples_;
    std::vector<std::thread> clients_;
};

}  // namespace cdb::test
