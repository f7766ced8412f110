#pragma once
// Which proven leave requests (docs/PROTOCOL.md §10) the LB acts on. A proof shows that a holder of
// the control-plane key made the request, not that it was made now: a request seen on the network
// could be sent again later, to take a cluster that was restarted out of service. So each request
// names its send time, which must be later than that of the last one accepted for its cluster (a
// request counts once) and within the window of the LB's clock (an LB that restarted and forgot the
// last ones accepts nothing older than the window). The clock is the caller's: tests pass it.
#include <cstdint>
#include <map>
#include <mutex>

#include "cdb/protocol.h"

namespace cdb::lb {

class LeaveGuard {
public:
    enum class Verdict { fresh, replayed, out_of_window };

    // `now_ms`: the LB's clock, milliseconds since the Unix epoch. Thread-safe.
    Verdict admit(const protocol::LeaveRequest& request, std::int64_t now_ms) {
        const std::int64_t skew = request.sent_at_ms - now_ms;
        if (skew > protocol::leave_window_ms || skew < -protocol::leave_window_ms) return Verdict::out_of_window;
        std::lock_guard<std::mutex> lock(mutex_);
        auto [latest, inserted] = latest_accepted_.try_emplace(request.index, request.sent_at_ms);
        if (!inserted) {
            if (request.sent_at_ms <= latest->second) return Verdict::replayed;
            latest->second = request.sent_at_ms;
        }
        return Verdict::fresh;
    }

private:
    std::mutex mutex_;
    std::map<int, std::int64_t> latest_accepted_;  // at most one entry per cluster index
};

}  // namespace cdb::lb
