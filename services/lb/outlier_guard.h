#pragma once
// Keeps a slave that let a read's try deadline pass out of new requests (Envoy's outlier ejection),
// apart from the election's failure counting: a frozen slave then costs one try deadline for the
// requests in flight to it, not the whole upstream timeout for every request it would get.
// When its ejection ends, one request at a time tries it again: an answer brings it back at once,
// another missed deadline ejects it again. Lock-free: every LB thread asks on each forwarded request.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "cdb/protocol.h"

namespace cdb::lb {

class OutlierGuard {
public:
    using Clock = std::chrono::steady_clock;
    // `ejection`: how long a slave that missed a deadline gets no request; `trial`: how long the one
    // request that tries it again has before others may try (its try deadline).
    OutlierGuard(std::chrono::milliseconds ejection, std::chrono::milliseconds trial);

    // Whether `slave` may get a new request now. When its ejection has just ended, only the caller
    // that gets `true` first sends it one; the others see it ejected until that trial is over.
    bool admits(int slave, Clock::time_point now);
    void on_missed_deadline(int slave, Clock::time_point now);
    void on_answer(int slave);

private:
    static std::int64_t ticks(Clock::time_point at) { return at.time_since_epoch().count(); }

    const Clock::duration ejection_;
    const Clock::duration trial_;
    // Per slave, the time (steady clock ticks) until which it gets no request; 0: not ejected.
    std::array<std::atomic<std::int64_t>, protocol::max_clusters> ejected_until_{};
};

}  // namespace cdb::lb
