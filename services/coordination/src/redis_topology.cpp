#include "cdb/coordination/redis_topology.h"

namespace cdb::coordination {

std::optional<ReplicaOf> repair_order(int index, const std::optional<RedisInfo>& observed, int leader,
                                      ReplicationMode mode) {
    if (!observed) return std::nullopt;
    if (index == leader || mode == ReplicationMode::none) {
        if (observed->role == RedisRole::master) return std::nullopt;
        return ReplicaOf{index, std::nullopt};
    }
    if (observed->role == RedisRole::replica && observed->master == leader) return std::nullopt;
    return ReplicaOf{index, leader};
}

}  // namespace cdb::coordination
