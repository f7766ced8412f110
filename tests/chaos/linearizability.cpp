#include "linearizability.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace cdb::chaos {
namespace {

constexpr int absent = -1;        // the register's value before any write
constexpr int never_written = -2; // a read of a value no write to the key sent: fits no order

std::string at(Micros time) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", static_cast<double>(time) / 1e6);
    return text;
}

// One operation on one key's register. `value`: the write's own number, or what the read returned.
struct Operation {
    Micros call = 0;
    Micros answer = 0;
    bool write = false;
    int value = absent;
    std::string description;
};

// splitmix64: fixed pseudo-random keys, so a run's verdict never depends on chance.
std::uint64_t mix(std::uint64_t seed) {
    seed += 0x9e3779b97f4a7c15ULL;
    seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ULL;
    seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebULL;
    return seed ^ (seed >> 31);
}

// A set of linearized operations and the register's value, hashed on 128 bits (Zobrist: one random
// key per operation and per value, combined by XOR, so a step updates the hash in O(1)). Two
// configurations are taken as equal when their hashes are; with 128 bits a collision is far less
// likely than a hardware fault, and it would only ever hide a linearization, never invent one.
struct Fingerprint {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    bool operator==(const Fingerprint& other) const { return high == other.high && low == other.low; }
    Fingerprint operator^(const Fingerprint& other) const { return {high ^ other.high, low ^ other.low}; }
};
struct FingerprintHash {
    std::size_t operator()(const Fingerprint& print) const { return print.low; }
};
Fingerprint fingerprint_of(std::uint64_t what) { return {mix(2 * what), mix(2 * what + 1)}; }

enum class Verdict { linearizable, not_linearizable, unknown };

// The search over one key's operations (Lowe, "Testing for linearizability", 2017, algorithm 3).
class RegisterSearch {
public:
    RegisterSearch(std::vector<Operation> operations, std::chrono::steady_clock::time_point deadline)
        : operations_(std::move(operations)), deadline_(deadline) {
        const std::size_t count = operations_.size();
        // Events in time order, calls before answers at the same instant (such operations overlap).
        std::vector<std::pair<std::pair<Micros, int>, std::size_t>> order;
        for (std::size_t op = 0; op < count; ++op) {
            order.push_back({{operations_[op].call, 0}, 2 * op});
            order.push_back({{operations_[op].answer, 1}, 2 * op + 1});
        }
        std::sort(order.begin(), order.end());
        // A doubly linked list of events; node 0 is the head sentinel, event e is node e + 1.
        next_.assign(2 * count + 1, 0);
        prev_.assign(2 * count + 1, 0);
        std::size_t last = 0;
        for (const auto& entry : order) {
            const std::size_t node = entry.second + 1;
            next_[last] = node;
            prev_[node] = last;
            last = node;
        }
        next_[last] = end_;
    }

    Verdict run() {
        std::vector<std::pair<std::size_t, int>> stack;  // linearized operation, value before it
        int value = absent;
        Fingerprint print = fingerprint_of_value(value);
        std::unordered_set<Fingerprint, FingerprintHash> seen{print};
        std::size_t node = next_[0];
        for (std::uint64_t steps = 0; next_[0] != end_; ++steps) {
            if (steps % 4096 == 0 && std::chrono::steady_clock::now() > deadline_) return Verdict::unknown;
            const std::size_t event = node - 1;
            const std::size_t op = event / 2;
            if (event % 2 == 0) {  // a call: try to linearize the operation here
                const Operation& operation = operations_[op];
                if (operation.write || operation.value == value) {
                    const int after = operation.write ? operation.value : value;
                    const Fingerprint next = print ^ fingerprint_of(op + values_offset()) ^
                                             fingerprint_of_value(value) ^ fingerprint_of_value(after);
                    if (seen.insert(next).second) {
                        stack.emplace_back(op, value);
                        value = after;
                        print = next;
                        lift(op);
                        node = next_[0];
                        continue;
                    }
                }
                node = next_[node];
                continue;
            }
            // The answer of an operation not linearized yet: undo the latest choice.
            if (stack.size() >= furthest_) {
                furthest_ = stack.size();
                stuck_at_ = op;
            }
            if (stack.empty()) return Verdict::not_linearizable;
            const auto [undone, before] = stack.back();
            stack.pop_back();
            print = print ^ fingerprint_of(undone + values_offset()) ^ fingerprint_of_value(value) ^
                    fingerprint_of_value(before);
            value = before;
            unlift(undone);
            node = next_[2 * undone + 1];
        }
        return Verdict::linearizable;
    }

    std::string explain() const {
        return std::to_string(furthest_) + " of " + std::to_string(operations_.size()) +
               " operations fit an order at most; none fits with: " + operations_[stuck_at_].description;
    }

private:
    // Values and operations draw their keys from disjoint ranges.
    std::uint64_t values_offset() const { return operations_.size() + 2; }
    static Fingerprint fingerprint_of_value(int value) { return fingerprint_of(static_cast<std::uint64_t>(value + 2)); }

    void remove(std::size_t node) {
        next_[prev_[node]] = next_[node];
        if (next_[node] != end_) prev_[next_[node]] = prev_[node];
    }
    void restore(std::size_t node) {
        next_[prev_[node]] = node;
        if (next_[node] != end_) prev_[next_[node]] = node;
    }
    void lift(std::size_t op) {
        remove(2 * op + 1);
        remove(2 * op + 2);
    }
    void unlift(std::size_t op) {
        restore(2 * op + 2);
        restore(2 * op + 1);
    }

    static constexpr std::size_t end_ = std::numeric_limits<std::size_t>::max();
    const std::vector<Operation> operations_;
    const std::chrono::steady_clock::time_point deadline_;
    std::vector<std::size_t> next_;
    std::vector<std::size_t> prev_;
    std::size_t furthest_ = 0;
    std::size_t stuck_at_ = 0;
};

struct KeyHistory {
    std::vector<const Write*> writes;
    std::vector<const Read*> reads;
    const FinalRead* final = nullptr;
};

// The operations of one key as the search sees them. A write of unknown outcome whose value nobody
// read is left out: taking effect unseen changes no answer. One that was read took effect before the
// earliest answer that returned its value, which bounds how long it stays open.
std::vector<Operation> operations_of(const KeyHistory& key, Micros after_everything, bool degraded_may_be_lost) {
    std::unordered_map<std::string, int> number_of;
    for (std::size_t i = 0; i < key.writes.size(); ++i) number_of.emplace(key.writes[i]->value, static_cast<int>(i));
    std::vector<Operation> reads;
    std::map<int, Micros> first_answer_seeing;
    auto add_read = [&](const std::optional<std::string>& seen, Micros call, Micros answer, std::string description) {
        int value = absent;
        if (seen) {
            auto found = number_of.find(*seen);
            value = found == number_of.end() ? never_written : found->second;
        }
        if (value >= 0) {
            auto [it, fresh] = first_answer_seeing.emplace(value, answer);
            if (!fresh) it->second = std::min(it->second, answer);
        }
        reads.push_back({call, answer, false, value, std::move(description)});
    };
    for (const Read* read : key.reads) {
        if (read->outcome.status != 200 && read->outcome.status != 404) continue;
        add_read(read->value, read->start, read->end,
                 "read " + read->key + " [" + at(read->start) + " .. " + at(read->end) + "] -> " +
                     read->value.value_or("absent"));
    }
    if (key.final && key.final->answered) {
        add_read(key.final->value, after_everything, after_everything + 1,
                 "final read of " + key.final->key + " -> " + key.final->value.value_or("absent"));
    }
    std::vector<Operation> operations;
    for (std::size_t i = 0; i < key.writes.size(); ++i) {
        const Write& write = *key.writes[i];
        const WriteEffect effect = effect_of(write, degraded_may_be_lost);
        if (effect == WriteEffect::none) continue;
        Micros answer = write.end;
        if (effect == WriteEffect::maybe) {
            auto seen = first_answer_seeing.find(static_cast<int>(i));
            if (seen == first_answer_seeing.end()) continue;
            answer = std::max(write.start, seen->second);
        }
        operations.push_back({write.start, answer, true, static_cast<int>(i),
                              "write " + write.key + "=" + write.value + " [" + at(write.start) + " .. " +
                                  at(write.end) + "] " + write.outcome.kind() +
                                  (write.replication.empty() ? "" : " " + write.replication)});
    }
    operations.insert(operations.end(), reads.begin(), reads.end());
    return operations;
}

}  // namespace

WriteEffect effect_of(const Write& write, bool degraded_may_be_lost) {
    const int status = write.outcome.status;
    if (write.acknowledged()) {
        return degraded_may_be_lost && write.replication == "degraded" ? WriteEffect::maybe : WriteEffect::applied;
    }
    // Documented refusals before sending (docs/API.md): a client error, "no leader reachable" (503),
    // or a connection to the LB that was never made.
    if ((status >= 400 && status < 500) || status == 503) return WriteEffect::none;
    if (status == 0 && write.outcome.transport == "Connection") return WriteEffect::none;
    return WriteEffect::maybe;
}

LinearizabilityResult LinearizabilityChecker::check(const History& history, const std::vector<FinalRead>& finals) const {
    std::map<std::string, KeyHistory> keys;
    Micros after_everything = 0;
    for (const Write& write : history.writes) {
        keys[write.key].writes.push_back(&write);
        after_everything = std::max(after_everything, write.end + 1);
    }
    for (const Read& read : history.reads) {
        keys[read.key].reads.push_back(&read);
        after_everything = std::max(after_everything, read.end + 1);
    }
    for (const FinalRead& final : finals) keys[final.key].final = &final;

    LinearizabilityResult result;
    const auto last_deadline = std::chrono::steady_clock::now() + total_;
    for (const auto& [name, key] : keys) {
        ++result.keys;
        const auto deadline = std::min(last_deadline, std::chrono::steady_clock::now() + per_key_);
        RegisterSearch lenient(operations_of(key, after_everything, true), deadline);
        switch (lenient.run()) {
            case Verdict::unknown: ++result.unknown; continue;
            case Verdict::not_linearizable:
                ++result.not_linearizable;
                if (result.problems.size() < max_problems) {
                    result.problems.push_back("key " + name + " is not linearizable: " + lenient.explain());
                }
                continue;
            case Verdict::linearizable: ++result.linearizable; break;
        }
        const bool has_degraded = std::any_of(key.writes.begin(), key.writes.end(), [](const Write* write) {
            return effect_of(*write, true) != effect_of(*write, false);
        });
        if (has_degraded &&
            RegisterSearch(operations_of(key, after_everything, false), deadline).run() == Verdict::not_linearizable) {
            ++result.only_if_degraded_lost;
        }
    }
    return result;
}

}  // namespace cdb::chaos
