#include "outlier_guard.h"

namespace cdb::lb {

OutlierGuard::OutlierGuard(std::chrono::milliseconds ejection, std::chrono::milliseconds trial)
    : ejection_(ejection), trial_(trial) {}

bool OutlierGuard::admits(int slave, Clock::time_point now) {
    auto& until = ejected_until_.at(static_cast<std::size_t>(slave));
    std::int64_t seen = until.load(std::memory_order_relaxed);
    if (seen == 0) return true;
    if (seen > ticks(now)) return false;
    // The ejection is over: whoever moves the mark first sends the one trial request.
    return until.compare_exchange_strong(seen, ticks(now + trial_), std::memory_order_relaxed);
}

void OutlierGuard::on_missed_deadline(int slave, Clock::time_point now) {
    ejected_until_.at(static_cast<std::size_t>(slave)).store(ticks(now + ejection_), std::memory_order_relaxed);
}

void OutlierGuard::on_answer(int slave) {
    auto& until = ejected_until_.at(static_cast<std::size_t>(slave));
    // Read first: the common case, a slave never ejected, writes nothing to a shared cache line.
    if (until.load(std::memory_order_relaxed) != 0) until.store(0, std::memory_order_relaxed);
}

}  // namespace cdb::lb
