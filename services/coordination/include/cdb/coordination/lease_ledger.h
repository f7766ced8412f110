#pragma once
// The leases the LB grants the slaves on the current leader (docs/ELECTION.md, "Leases"). A slave
// uses the leader's Redis only under a lease, and a lease runs from the moment the slave sent the
// nonce that the grant names, on the slave's own clock: neither a grant held up on its way nor a
// slave that wakes from a pause can stretch it. The LB needs only to know, on its own clock, when
// every lease it granted must have ended; no new leader is promoted before.
#include <cstdint>
#include <map>
#include <optional>

#include "cdb/coordination/events.h"

namespace cdb::coordination {

// Clocks are trusted to run at the same rate within this much (CLOCK_MONOTONIC is slewed by at
// most 0.05 % by NTP; quartz drifts by parts per million): a lease of D ms on a slave's clock has
// ended after D (1 + ρ) / (1 − ρ) ms on the LB's.
inline constexpr double max_clock_rate_error = 0.01;

struct LeaseGrant {
    LeaderState state;
    std::uint64_t nonce = 0;
    Millis duration_ms = 0;
};

class LeaseLedger {
public:
    explicit LeaseLedger(Millis lease_ms);

    Millis lease_ms() const { return lease_ms_; }
    // How long after a nonce reached the LB the lease granted on it has surely ended, on the LB's clock.
    Millis wait_ms() const { return wait_ms_; }

    // A slave's latest nonce, from a probe answer handled at `now` (after the slave sent it).
    void observe_nonce(int index, std::uint64_t nonce, Millis now);
    void forget(int index);
    // A grant on the slave's latest nonce, and the promise that goes with it (no promotion before
    // its end); nullopt when the slave has sent no nonce within a lease.
    std::optional<LeaseGrant> grant(int index, const LeaderState& state, Millis now);
    // Leases an earlier run of the LB may have granted: they end within the wait after `now`.
    void assume_unknown_leases(Millis now);

    // Every lease granted so far has ended by this time (the LB's clock).
    Millis all_ended_by() const { return all_ended_by_; }

private:
    struct Nonce {
        std::uint64_t value = 0;
        Millis seen_at = 0;
    };
    Millis lease_ms_;
    Millis wait_ms_;
    std::map<int, Nonce> nonces_;
    Millis all_ended_by_;
};

}  // namespace cdb::coordination
