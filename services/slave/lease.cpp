#include "lease.h"

#include <time.h>

#include <algorithm>

namespace cdb::slave {

LeaseClock::time_point LeaseClock::now() {
    timespec now{};
    ::clock_gettime(CLOCK_BOOTTIME, &now);
    return time_point(std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec));
}

Lease::Lease(std::uint64_t first_nonce) : next_nonce_(first_nonce % (protocol::max_lease_nonce / 2) + 1) {}

std::uint64_t Lease::issue_nonce(Time now) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (last_issued_ && now - last_issued_->second < nonce_reuse) return last_issued_->first;
    const std::uint64_t nonce = next_nonce_++;
    if (next_nonce_ > protocol::max_lease_nonce) next_nonce_ = 1;
    sent_[nonce % remembered_nonces] = {nonce, now};
    last_issued_ = {nonce, now};
    return nonce;
}

GrantOutcome Lease::renew(const protocol::LeaseGrant& grant, const AnnouncedLeader& following) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto& [nonce, sent_at] = sent_[grant.nonce % remembered_nonces];
    if (nonce != grant.nonce || nonce == 0) return GrantOutcome::unknown_nonce;
    if (grant.term != following.term || grant.leader != following.leader) return GrantOutcome::other_leader;
    const Time expires = sent_at + std::chrono::milliseconds(grant.duration_ms);
    if (grant.term != term_ || grant.leader != leader_) {
        term_ = grant.term;
        leader_ = grant.leader;
        expires_ = expires;
    } else {
        expires_ = std::max(expires_, expires);
    }
    return GrantOutcome::renewed;
}

bool Lease::holds(const AnnouncedLeader& state, Time now) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return state.term == term_ && state.leader == leader_ && now < expires_;
}

std::chrono::milliseconds Lease::remaining(const AnnouncedLeader& state, Time now) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (state.term != term_ || state.leader != leader_ || now >= expires_) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(expires_ - now);
}

}  // namespace cdb::slave
