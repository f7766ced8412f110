#include "read_load.h"

namespace cdb::test {
namespace {
constexpr std::size_t kept_failure_kinds = 5;

void raise_to(std::atomic<long long>& highest, long long value) {
    long long seen = highest;
    while (value > seen && !highest.compare_exchange_weak(seen, value)) {}
}
}  // namespace

ReadLoad::ReadLoad(const LocalSystem& system, int clients, std::string key)
    : ReadLoad(system.lb_port(), clients, std::move(key)) {}

ReadLoad::ReadLoad(int port, int clients, std::string key) {
    for (int i = 0; i < clients; ++i) clients_.emplace_back([this, port, key] { read_loop(port, key); });
}

ReadLoad::~ReadLoad() { stop(); }

void ReadLoad::stop() {
    stop_ = true;
    for (auto& client : clients_) {
        if (client.joinable()) client.join();
    }
}

void ReadLoad::restart_slowest() {
    slowest_ms_ = 0;
    slow_answers_ = 0;
}

void ReadLoad::read_loop(int port, const std::string& key) {
    // The bounds of LocalSystem::client(), with room for the LB's whole retry budget.
    httplib::Client http("127.0.0.1", port);
    http.set_connection_timeout(std::chrono::seconds(1));
    http.set_read_timeout(std::chrono::seconds(5));
    while (!stop_) {
        const auto started = std::chrono::steady_clock::now();
        auto answer = http.Get("/get/" + key);
        const auto took = std::chrono::steady_clock::now() - started;
        ++reads_;
        if (!answer) {
            const std::string kind = "no answer: " + httplib::to_string(answer.error());
            note_failure(kind, kind);
        } else if (answer->status != 200) {
            note_failure(std::to_string(answer->status), std::to_string(answer->status) + " " + answer->body);
        }
        if (took > slow_answer) ++slow_answers_;
        const long long took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
        raise_to(slowest_ms_, took_ms);
        raise_to(slowest_overall_ms_, took_ms);
    }
}

void ReadLoad::note_failure(const std::string& kind, const std::string& what) {
    ++failures_;
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(samples_mutex_);
    if (!first_failure_) first_failure_ = now;
    last_failure_ = now;
    ++failure_kinds_[kind];
    if (failure_samples_.size() < kept_failure_kinds || failure_samples_.count(what)) ++failure_samples_[what];
}

std::map<std::string, int> ReadLoad::failures_by_kind() const {
    std::lock_guard<std::mutex> lock(samples_mutex_);
    return failure_kinds_;
}

std::optional<std::chrono::steady_clock::time_point> ReadLoad::first_failure() const {
    std::lock_guard<std::mutex> lock(samples_mutex_);
    return first_failure_;
}

std::optional<std::chrono::steady_clock::time_point> ReadLoad::last_failure() const {
    std::lock_guard<std::mutex> lock(samples_mutex_);
    return last_failure_;
}

std::string ReadLoad::summary() const {
    std::string text = std::to_string(reads_) + " reads, " + std::to_string(failures_) + " failed, slowest " +
                       std::to_string(slowest_ms_) + " ms";
    std::lock_guard<std::mutex> lock(samples_mutex_);
    for (const auto& [what, count] : failure_samples_) text += "\n  " + std::to_string(count) + " x " + what;
    return text;
}

}  // namespace cdb::test
