#include "read_load.h"

namespace cdb::test {
namespace {
constexpr std::size_t kept_failure_kinds = 5;
}

ReadLoad::ReadLoad(const LocalSystem& system, int clients, std::string key) {
    for (int i = 0; i < clients; ++i) clients_.emplace_back([this, &system, key] { read_loop(system, key); });
}

ReadLoad::~ReadLoad() { stop(); }

void ReadLoad::stop() {
    stop_ = true;
    for (auto& client : clients_) {
        if (client.joinable()) client.join();
    }
}

void ReadLoad::restart_slowest() { slowest_ms_ = 0; }

void ReadLoad::read_loop(const LocalSystem& system, const std::string& key) {
    auto http = system.client();
    http.set_read_timeout(std::chrono::seconds(5));
    while (!stop_) {
        const auto started = std::chrono::steady_clock::now();
        auto answer = http.Get("/get/" + key);
        const long long took =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
        ++reads_;
        if (!answer) {
            note_failure("no answer: " + httplib::to_string(answer.error()));
        } else if (answer->status != 200) {
            note_failure(std::to_string(answer->status) + " " + answer->body);
        }
        long long seen = slowest_ms_;
        while (took > seen && !slowest_ms_.compare_exchange_weak(seen, took)) {}
    }
}

void ReadLoad::note_failure(const std::string& what) {
    ++failures_;
    std::lock_guard<std::mutex> lock(samples_mutex_);
    if (failure_samples_.size() < kept_failure_kinds || failure_samples_.count(what)) ++failure_samples_[what];
}

std::string ReadLoad::summary() const {
    std::string text = std::to_string(reads_) + " reads, " + std::to_string(failures_) + " failed, slowest " +
                       std::to_string(slowest_ms_) + " ms";
    std::lock_guard<std::mutex> lock(samples_mutex_);
    for (const auto& [what, count] : failure_samples_) text += "\n  " + std::to_string(count) + " x " + what;
    return text;
}

}  // namespace cdb::test
