#pragma once
// Judges a chaos run's history (docs/CHAOS.md, "The check"). Pure: no I/O, no clock, so every rule
// is tested on hand-written histories (history_checker_test.cpp).
//
// A read is explained by the write whose value it returned, or by "absent". From that source:
// - an unacknowledged write (an error, or no answer) may have taken effect at any time after it was
//   sent, even after its error came back, so it proves nothing was missed;
// - an acknowledged write, or "absent", proves that every acknowledged write to the key sent after
//   it was acknowledged (or every one, for "absent"), and acknowledged before the read was sent, is
//   missing. Such a write is *lost* when the read is the final one, and makes a *stale* read during
//   the run when it was synced.
// Writes that overlap in time may take effect in either order, so none of them proves another lost.
// On top of these rules, which name what went wrong, each key's history must be linearizable
// (linearizability.h): the rules above cannot see a value that came back after it was overwritten.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "history.h"
#include "linearizability.h"

namespace cdb::chaos {

struct CheckResult {
    struct Counts {
        long reads = 0;
        long writes = 0;
    };
    std::map<std::string, Counts> outcomes;  // by Outcome::kind()
    long reads = 0;
    long writes = 0;
    long writes_synced = 0;         // acknowledged with X-Replication: synced
    long writes_unprotected = 0;    // acknowledged otherwise (degraded, async, none)
    long writes_unacknowledged = 0;
    Micros longest = 0;
    std::string longest_request;
    long too_slow = 0;              // took longer than the bound
    long reads_never_written = 0;   // a value no write to that key had sent yet (final reads included)
    long reads_stale = 0;           // missed a synced write acknowledged before the read was sent
    long lost_synced = 0;           // acknowledged writes the final values prove lost
    long lost_unprotected = 0;
    long final_from_unacknowledged = 0;  // final value of a write that got an error: allowed
    long final_unreadable = 0;           // keys written during the run whose final read failed
    LinearizabilityResult linearizability;  // per key; a key that is not fails the run
    std::vector<std::string> problems;   // the first few violations that fail the run, described

    long operations() const { return reads + writes; }
    bool passed() const;
};

class HistoryChecker {
public:
    static constexpr std::size_t max_problems = 20;

    // `bound`: the longest an operation may take. `finals`: one per key the run wrote.
    explicit HistoryChecker(LinearizabilityChecker linearizability = LinearizabilityChecker())
        : linearizability_(linearizability) {}

    CheckResult check(const History& history, const std::vector<FinalRead>& finals, Micros bound) const;

private:
    const LinearizabilityChecker linearizability_;
};

}  // namespace cdb::chaos
