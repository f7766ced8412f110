#pragma once
// The slave's lease on its leader (docs/ELECTION.md, "Leases"): data is read from or written to the
// leader's Redis only while the LB has recently confirmed that leader, checked again when Redis
// answers. A slave or a Redis that wakes from a pause after an election therefore serves nothing
// from the deposed leader: the LB promotes a new one only once every lease it granted has ended.
//
// A lease runs from the moment this slave sent the nonce the grant names, on this slave's clock, so
// a grant that arrives late cannot stretch it. Times are passed in: the rules are unit-tested alone.
#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "cdb/announced_leader.h"
#include "cdb/protocol.h"

namespace cdb::slave {

// CLOCK_BOOTTIME: like CLOCK_MONOTONIC it never jumps, and unlike it, it keeps counting while the
// machine is suspended, so a slave cannot wake from a suspend holding a lease that looks fresh.
struct LeaseClock {
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<LeaseClock, duration>;
    static time_point now();
};

enum class GrantOutcome {
    renewed,
    unknown_nonce,   // not one of this process's recent nonces (too old, or before a restart)
    other_leader,    // for a (term, leader) this slave does not follow (an announcement will come)
};

class Lease {
public:
    using Time = LeaseClock::time_point;
    // `first_nonce`: random, so a restarted slave cannot take a grant meant for its previous run.
    explicit Lease(std::uint64_t first_nonce);

    // The nonce for a /status answer about to be sent at `now`.
    std::uint64_t issue_nonce(Time now);
    // A grant whose proof was checked: extends the lease when it names a recent nonce and the
    // (term, leader) that `following` holds.
    GrantOutcome renew(const protocol::LeaseGrant& grant, const AnnouncedLeader& following);
    // Whether `state`'s leader may be used at `now`.
    bool holds(const AnnouncedLeader& state, Time now) const;
    // What is left of the lease on `state` at `now` (zero when none).
    std::chrono::milliseconds remaining(const AnnouncedLeader& state, Time now) const;

private:
    // A nonce is reused for the /status answers of the next 25 ms, and 16 are remembered: whoever
    // else asks for /status, however often, the nonces of the last 400 ms stay known, and the LB
    // grants on no older one (half a lease). Reusing one only makes its lease start earlier.
    static constexpr std::size_t remembered_nonces = 16;
    static constexpr std::chrono::milliseconds nonce_reuse{25};
    mutable std::mutex mutex_;
    std::uint64_t next_nonce_;
    std::optional<std::pair<std::uint64_t, Time>> last_issued_;
    std::array<std::pair<std::uint64_t, Time>, remembered_nonces> sent_{};
    std::int64_t term_ = 0;
    int leader_ = -1;
    Time expires_{};
};

}  // namespace cdb::slave
