#pragma once
// Is the history of each key linearizable as one register? The search of Wing & Gong with Lowe's
// memoisation, as in Knossos and Porcupine, run key by key (a history is linearizable when each
// key's is). Pure: no I/O; the only clock is the time budget per key, which turns a search that
// would take too long into the verdict "unknown" instead of a hung run.
//
// What each operation says (docs/CHAOS.md, "Linearizability"):
// - a write answered 2xx took effect once, between its start and its end; one acknowledged
//   `degraded` may also have been lost (only the leader had it), so it counts as of unknown
//   outcome, and the strict reading (it took effect) is reported on its own;
// - a write refused before anything was sent (4xx, 503, no connection) did not take effect;
// - any other write (502, 504, other 5xx, no answer after sending) may have taken effect at any
//   time after its start, or never;
// - a read answered 200 or 404 returned the register's value at one instant between its start and
//   its end; a failed read says nothing.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "history.h"

namespace cdb::chaos {

// What a write's answer proves about its effect.
enum class WriteEffect { applied, maybe, none };
WriteEffect effect_of(const Write& write, bool degraded_may_be_lost);

struct LinearizabilityResult {
    long keys = 0;
    long linearizable = 0;
    long not_linearizable = 0;
    long unknown = 0;                    // the search ran out of its time budget
    long only_if_degraded_lost = 0;      // linearizable only if some degraded writes were lost
    std::vector<std::string> problems;   // a description per key that is not linearizable
};

class LinearizabilityChecker {
public:
    static constexpr std::size_t max_problems = 10;

    // The search of one key gets at most `per_key`, all keys together at most `total`.
    explicit LinearizabilityChecker(std::chrono::milliseconds per_key = std::chrono::seconds(5),
                                    std::chrono::milliseconds total = std::chrono::seconds(60))
        : per_key_(per_key), total_(total) {}

    // `finals`: the value of each key after the run, read once everything settled (after every
    // operation of `history`).
    LinearizabilityResult check(const History& history, const std::vector<FinalRead>& finals) const;

private:
    const std::chrono::milliseconds per_key_;
    const std::chrono::milliseconds total_;
};

}  // namespace cdb::chaos
