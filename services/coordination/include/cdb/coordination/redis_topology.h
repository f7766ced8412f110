#pragma once
// The Redis topology a leader implies, and the order that repairs one cluster's drift from it.
#include <optional>

#include "cdb/coordination/config.h"
#include "cdb/coordination/decisions.h"
#include "cdb/coordination/events.h"

namespace cdb::coordination {

// The leader's Redis and, in mode none, every Redis is a master; otherwise every Redis replicates
// the leader's. Returns the REPLICAOF that makes `observed` so, or nullopt when it already is or
// is unreachable (the order would fail; its next probe brings it back here).
std::optional<ReplicaOf> repair_order(int index, const std::optional<RedisInfo>& observed, int leader,
                                      ReplicationMode mode);

}  // namespace cdb::coordination
