#include "history_checker.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <unordered_map>

namespace cdb::chaos {
namespace {

constexpr Micros before_everything = std::numeric_limits<Micros>::min();
constexpr Micros after_everything = std::numeric_limits<Micros>::max();

std::string at(Micros time) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f s", static_cast<double>(time) / 1e6);
    return text;
}

std::string describe(const Write& write) {
    return write.key + "=" + write.value + " [" + at(write.start) + " .. " + at(write.end) + "] " +
           write.outcome.kind() + (write.replication.empty() ? "" : " " + write.replication);
}

// The writes of one key, for the question "which acknowledged writes did a read miss?".
class KeyWrites {
public:
    void add(const Write& write) {
        if (write.acknowledged()) acknowledged_.push_back(&write);
    }

    void index() {
        std::sort(acknowledged_.begin(), acknowledged_.end(),
                  [](const Write* a, const Write* b) { return a->start < b->start; });
        for (const Write* write : acknowledged_) {
            if (write->synced()) synced_.push_back(write);
        }
        earliest_end_from_.resize(synced_.size());
        Micros earliest = after_everything;
        for (std::size_t i = synced_.size(); i-- > 0;) {
            earliest = std::min(earliest, synced_[i]->end);
            earliest_end_from_[i] = earliest;
        }
    }

    // Acknowledged writes sent after `after` and acknowledged before `before`.
    std::vector<const Write*> missed(Micros after, Micros before) const {
        std::vector<const Write*> found;
        for (auto it = first_started_after(acknowledged_, after); it != acknowledged_.end(); ++it) {
            if ((*it)->end < before) found.push_back(*it);
        }
        return found;
    }

    // Whether any synced write was sent after `after` and acknowledged before `before`.
    bool missed_synced(Micros after, Micros before) const {
        const auto it = first_started_after(synced_, after);
        return it != synced_.end() && earliest_end_from_[static_cast<std::size_t>(it - synced_.begin())] < before;
    }

private:
    static std::vector<const Write*>::const_iterator first_started_after(const std::vector<const Write*>& writes,
                                                                         Micros after) {
        return std::upper_bound(writes.begin(), writes.end(), after,
                                [](Micros time, const Write* write) { return time < write->start; });
    }

    std::vector<const Write*> acknowledged_;  // by start
    std::vector<const Write*> synced_;        // by start
    std::vector<Micros> earliest_end_from_;   // earliest end among synced_[i..]
};

class Checking {
public:
    Checking(const History& history, Micros bound) : history_(history), bound_(bound) {
        for (const Write& write : history.writes) {
            by_value_.emplace(write.value, &write);
            keys_[write.key].add(write);
        }
        for (auto& [key, writes] : keys_) writes.index();
    }

    CheckResult run(const std::vector<FinalRead>& finals) {
        for (const Write& write : history_.writes) count_write(write);
        for (const Read& read : history_.reads) check_read(read);
        std::unordered_map<std::string, bool> read_at_end;
        for (const FinalRead& final : finals) {
            read_at_end[final.key] = true;
            check_final(final);
        }
        for (const auto& [key, writes] : keys_) {
            if (!read_at_end.count(key)) problem(result_.final_unreadable, "no final read of " + key);
        }
        return std::move(result_);
    }

private:
    void problem(long& counter, const std::string& text) {
        ++counter;
        if (result_.problems.size() < HistoryChecker::max_problems) result_.problems.push_back(text);
    }

    void time(const std::string& what, Micros start, Micros end, const Outcome& outcome) {
        const Micros took = end - start;
        if (took > result_.longest) {
            result_.longest = took;
            result_.longest_request = what + " sent at " + at(start) + ": " + outcome.kind();
        }
        if (took > bound_) problem(result_.too_slow, what + " took " + at(took) + " (sent at " + at(start) + ")");
    }

    void count_write(const Write& write) {
        ++result_.writes;
        ++result_.outcomes[write.outcome.kind()].writes;
        if (write.synced()) {
            ++result_.writes_synced;
        } else if (write.acknowledged()) {
            ++result_.writes_unprotected;
        } else {
            ++result_.writes_unacknowledged;
        }
        time("write " + write.key + "=" + write.value, write.start, write.end, write.outcome);
    }

    // The write that produced `value` for a read of `key` answered at `answered`; null when no write
    // to that key had been sent by then.
    const Write* source(const std::string& key, const std::string& value, Micros answered) const {
        auto found = by_value_.find(value);
        if (found == by_value_.end() || found->second->key != key || found->second->start > answered) return nullptr;
        return found->second;
    }

    void check_read(const Read& read) {
        ++result_.reads;
        ++result_.outcomes[read.outcome.kind()].reads;
        time("read " + read.key, read.start, read.end, read.outcome);
        if (read.outcome.status == 404) {
            report_stale(read, before_everything, "absent");
        } else if (read.outcome.ok() && read.value) {
            const Write* write = source(read.key, *read.value, read.end);
            if (!write) {
                problem(result_.reads_never_written, "read of " + read.key + " at " + at(read.start) + " returned " +
                                                         *read.value + ", which no write to it had sent");
            } else if (write->acknowledged()) {
                report_stale(read, write->end, *read.value);
            }
        }
    }

    void report_stale(const Read& read, Micros source_acknowledged, const std::string& seen) {
        if (keys_.count(read.key) && keys_.at(read.key).missed_synced(source_acknowledged, read.start)) {
            problem(result_.reads_stale, "read of " + read.key + " sent at " + at(read.start) + " returned " + seen +
                                             " after a later synced write had been acknowledged");
        }
    }

    void check_final(const FinalRead& final) {
        if (!final.answered) {
            problem(result_.final_unreadable, "final read of " + final.key + " failed");
            return;
        }
        Micros source_acknowledged = before_everything;  // absent: every acknowledged write is missing
        std::string seen = "absent";
        if (final.value) {
            seen = *final.value;
            const Write* write = source(final.key, *final.value, after_everything);
            if (!write) {
                problem(result_.reads_never_written,
                        "final read of " + final.key + " returned " + *final.value + ", which no write to it sent");
            } else if (!write->acknowledged()) {
                // It may have taken effect last of all, whatever came after it.
                if (!missed(final.key, write->end).empty()) ++result_.final_from_unacknowledged;
                return;
            } else {
                source_acknowledged = write->end;
            }
        }
        for (const Write* lost : missed(final.key, source_acknowledged)) {
            if (lost->synced()) {
                problem(result_.lost_synced, "lost " + describe(*lost) + "; final value " + seen);
            } else {
                ++result_.lost_unprotected;  // allowed: only the leader had it
            }
        }
    }

    std::vector<const Write*> missed(const std::string& key, Micros after) const {
        auto found = keys_.find(key);
        return found == keys_.end() ? std::vector<const Write*>{} : found->second.missed(after, after_everything);
    }

    const History& history_;
    const Micros bound_;
    std::unordered_map<std::string, const Write*> by_value_;
    std::unordered_map<std::string, KeyWrites> keys_;
    CheckResult result_;
};

}  // namespace

std::string Outcome::kind() const {
    return status != 0 ? std::to_string(status) : "no answer: " + (transport.empty() ? "unknown" : transport);
}

bool CheckResult::passed() const {
    return too_slow == 0 && reads_never_written == 0 && reads_stale == 0 && lost_synced == 0 && final_unreadable == 0 &&
           linearizability.not_linearizable == 0;
}

CheckResult HistoryChecker::check(const History& history, const std::vector<FinalRead>& finals, Micros bound) const {
    CheckResult result = Checking(history, bound).run(finals);
    result.linearizability = linearizability_.check(history, finals);
    for (const std::string& problem : result.linearizability.problems) {
        if (result.problems.size() < max_problems) result.problems.push_back(problem);
    }
    return result;
}

}  // namespace cdb::chaos
