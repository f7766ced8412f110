#pragma once
// The clients of a chaos run: a fixed set of threads, each with one keep-alive connection to the
// LB, sending reads and writes over a small keyspace as fast as answers come, and recording every
// operation. Every value written is unique ("c<client>-<seq>"), so a read names the write it saw.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "history.h"

namespace cdb::chaos {

using Clock = std::chrono::steady_clock;

struct Endpoint {
    std::string host;
    int port = 0;
};

// The keys of one run: short names in the history, a run-specific prefix on the wire, so that data
// from an earlier run on the same system cannot be mistaken for this run's.
struct KeySpace {
    std::string prefix;
    int count = 300;

    std::string name(int index) const { return "k" + std::to_string(index); }
    std::string wire(const std::string& name) const { return prefix + name; }
};

struct LoadOptions {
    int clients = 64;
    int write_percent = 50;
    // Longer than any answer may take, so a hung request shows in the history as too slow.
    std::chrono::milliseconds request_timeout{15000};
    // A client pauses this long after an error or no answer, as a real client would; without it,
    // 64 clients spin on "connection refused" while the LB restarts.
    std::chrono::milliseconds backoff{100};
};

// The "value" of a GET /get answer; the start of the body, marked, when it has none, so that the check
// counts it as a value never written.
std::string value_in_answer(const std::string& body);

// Micros since `epoch`.
Micros since(Clock::time_point epoch);

class LoadGenerator {
public:
    LoadGenerator(Endpoint lb, KeySpace keys, LoadOptions options, Clock::time_point epoch);
    ~LoadGenerator();
    LoadGenerator(const LoadGenerator&) = delete;
    LoadGenerator& operator=(const LoadGenerator&) = delete;

    void start();
    History stop();  // waits for the requests in flight, then merges every client's record

private:
    void run_client(int client);

    const Endpoint lb_;
    const KeySpace keys_;
    const LoadOptions options_;
    const Clock::time_point epoch_;
    std::vector<History> histories_;  // one per client, written only by its thread
    std::vector<std::thread> threads_;
    std::atomic<bool> stopping_{false};
};

}  // namespace cdb::chaos
