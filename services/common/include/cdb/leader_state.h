#pragma once
// Who leads, as the LB announces it to the slaves and they report it back (docs/PROTOCOL.md).
#include <cstdint>

namespace cdb {

struct LeaderState {
    std::int64_t term = 0;  // 0: no leader known yet
    int leader = -1;
    int followers = 0;      // Redis replicas attached to the leader, as announced
    bool known() const { return term > 0 && leader >= 0; }
};

}  // namespace cdb
