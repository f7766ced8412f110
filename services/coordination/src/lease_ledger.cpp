#include "cdb/coordination/lease_ledger.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cdb::coordination {

LeaseLedger::LeaseLedger(Millis lease_ms)
    : lease_ms_(lease_ms),
      // One millisecond more for the rounding of both clocks to whole milliseconds.
      wait_ms_(static_cast<Millis>(std::ceil(static_cast<double>(lease_ms) * (1 + max_clock_rate_error) /
                                             (1 - max_clock_rate_error))) + 1),
      all_ended_by_(std::numeric_limits<Millis>::min()) {}

void LeaseLedger::observe_nonce(int index, std::uint64_t nonce, Millis now) { nonces_[index] = Nonce{nonce, now}; }

void LeaseLedger::forget(int index) { nonces_.erase(index); }

std::optional<LeaseGrant> LeaseLedger::grant(int index, const LeaderState& state, Millis now) {
    auto found = nonces_.find(index);
    // A lease on an older nonce would have ended before the slave reads it.
    if (found == nonces_.end() || now - found->second.seen_at >= lease_ms_) return std::nullopt;
    all_ended_by_ = std::max(all_ended_by_, found->second.seen_at + wait_ms_);
    return LeaseGrant{state, found->second.value, lease_ms_};
}

void LeaseLedger::assume_unknown_leases(Millis now) { all_ended_by_ = std::max(all_ended_by_, now + wait_ms_); }

}  // namespace cdb::coordination
