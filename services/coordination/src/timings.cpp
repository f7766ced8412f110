#include "cdb/coordination/timings.h"

#include <algorithm>

namespace cdb::coordination {

ElectionTimings election_timings(Millis probe_interval_ms, Millis upstream_timeout_ms) {
    ElectionTimings timings;
    timings.probe_period = probe_interval_ms;
    timings.slave_probe_timeout = std::min<Millis>(upstream_timeout_ms, std::max<Millis>(2 * probe_interval_ms, 300));
    timings.lease = probe_interval_ms + lease_margin_ms;
    timings.recovery_window = std::max<Millis>(1000, 3 * probe_interval_ms);
    timings.name_lookup_timeout = std::max<Millis>(probe_interval_ms, 200);
    timings.leave_gathering = std::min<Millis>(max_lease_ms, 2 * probe_interval_ms);
    timings.lease_gap_hold = timings.lease + probe_interval_ms;
    return timings;
}

}  // namespace cdb::coordination
