#include "cdb/coordination/config.h"

#include "cdb/coordination/roster.h"
#include "cdb/coordination/timings.h"

#include <stdexcept>
#include <string>

namespace cdb::coordination {

namespace {
void require(bool holds, const std::string& field, const std::string& range) {
    if (!holds) throw std::invalid_argument("coordination config: " + field + " must be " + range);
}
}  // namespace

void validate(const Config& config) {
    require(config.failure_threshold >= 1, "failure_threshold", ">= 1");
    require(config.eject_after >= 1, "eject_after", ">= 1");
    require(config.recovery_window_ms >= 0, "recovery_window_ms", ">= 0");
    require(config.reannounce_interval_ms >= 1, "reannounce_interval_ms", ">= 1");
    require(config.lease_ms >= 1 && config.lease_ms <= max_lease_ms, "lease_ms", "from 1 to " + std::to_string(max_lease_ms));
    require(config.leave_gathering_ms >= 0 && config.leave_gathering_ms <= max_lease_ms, "leave_gathering_ms",
            "from 0 to " + std::to_string(max_lease_ms));
    require(config.size >= 1 && config.size <= max_clusters, "size", "from 1 to " + std::to_string(max_clusters));
}

}  // namespace cdb::coordination
