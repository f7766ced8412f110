#pragma once
// Hand-written histories for the unit tests of the checks: one call per operation, times in
// microseconds since the start of the run.
#include <optional>
#include <string>
#include <vector>

#include "history_checker.h"

namespace cdb::chaos {

class Scenario {
public:
    Scenario& write(const std::string& key, const std::string& value, Micros start, Micros end, int status = 200,
                    const std::string& replication = "synced") {
        Write& write = add_write(key, value, start, end);
        write.outcome.status = status;
        if (status == 200) write.replication = replication;
        return *this;
    }
    Scenario& unanswered_write(const std::string& key, const std::string& value, Micros start, Micros end) {
        add_write(key, value, start, end).outcome.transport = "Read";
        return *this;
    }
    Scenario& read(const std::string& key, std::optional<std::string> value, Micros start, Micros end) {
        Read& read = add_read(key, start, end);
        read.outcome.status = value ? 200 : 404;
        read.value = std::move(value);
        return *this;
    }
    Scenario& failed_read(const std::string& key, int status, Micros start, Micros end) {
        add_read(key, start, end).outcome.status = status;
        return *this;
    }
    Scenario& final(const std::string& key, std::optional<std::string> value) {
        finals_.push_back({key, true, std::move(value)});
        return *this;
    }
    Scenario& final_failed(const std::string& key) {
        finals_.push_back({key, false, std::nullopt});
        return *this;
    }
    static constexpr Micros bound = 1000;  // on an operation's time
    CheckResult check() const { return HistoryChecker().check(history_, finals_, bound); }
    const History& history() const { return history_; }
    const std::vector<FinalRead>& finals() const { return finals_; }

private:
    Write& add_write(const std::string& key, const std::string& value, Micros start, Micros end) {
        Write& write = history_.writes.emplace_back();
        write.key = key;
        write.value = value;
        write.start = start;
        write.end = end;
        return write;
    }
    Read& add_read(const std::string& key, Micros start, Micros end) {
        Read& read = history_.reads.emplace_back();
        read.key = key;
        read.start = start;
        read.end = end;
        return read;
    }

    History history_;
    std::vector<FinalRead> finals_;
};

}  // namespace cdb::chaos
