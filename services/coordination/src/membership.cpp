#include "cdb/coordination/membership.h"

#include <algorithm>

namespace cdb::coordination {

void Membership::set_present(const std::vector<int>& present) {
    std::map<int, ClusterState> next;
    for (int index : present) {
        auto known = clusters_.find(index);
        next[index] = known == clusters_.end() ? ClusterState{} : known->second;
    }
    clusters_ = std::move(next);
}

UpstreamChange Membership::record_slave_probe(const SlaveProbe& probe) {
    auto it = clusters_.find(probe.index);
    if (it == clusters_.end()) return UpstreamChange::none;
    ClusterState& cluster = it->second;
    cluster.slave_probed = true;
    cluster.slave = probe.state;
    if (probe.stopping) {
        ++cluster.slave_failures;
        return eject(cluster);
    }
    if (!probe.state) return count_slave_failure(cluster);
    cluster.slave_failures = 0;
    if (cluster.admitted) return UpstreamChange::none;
    cluster.admitted = true;
    return UpstreamChange::admitted;
}

bool Membership::record_redis_probe(const RedisProbe& probe) {
    auto it = clusters_.find(probe.index);
    if (it == clusters_.end()) return false;
    it->second.redis_probed = true;
    it->second.redis = probe.info;
    return true;
}

UpstreamChange Membership::record_forward_failure(int index) {
    auto it = clusters_.find(index);
    if (it == clusters_.end()) return UpstreamChange::none;
    return count_slave_failure(it->second);
}

UpstreamChange Membership::record_slave_stopping(int index) {
    auto it = clusters_.find(index);
    if (it == clusters_.end()) return UpstreamChange::none;
    ++it->second.slave_failures;
    return eject(it->second);
}

// Every failure counts, a burst included: ejecting early costs at most one probe interval of
// capacity (the next passing probe readmits), forwarding to a dead slave costs client errors.
UpstreamChange Membership::count_slave_failure(ClusterState& cluster) {
    ++cluster.slave_failures;
    if (cluster.slave_failures < eject_after_) return UpstreamChange::none;
    return eject(cluster);
}

UpstreamChange Membership::eject(ClusterState& cluster) {
    if (!cluster.admitted) return UpstreamChange::none;
    cluster.admitted = false;
    return UpstreamChange::ejected;
}

bool Membership::set_draining(int index, bool draining) {
    auto it = clusters_.find(index);
    if (it == clusters_.end()) return false;
    it->second.draining = draining;
    return true;
}

bool Membership::set_leaving(int index, bool leaving) {
    auto it = clusters_.find(index);
    if (it == clusters_.end()) return false;
    it->second.leaving = leaving;
    if (leaving) it->second.draining = true;
    return true;
}

const ClusterState* Membership::find(int index) const {
    auto it = clusters_.find(index);
    return it == clusters_.end() ? nullptr : &it->second;
}

std::vector<int> Membership::indices() const {
    std::vector<int> result;
    for (const auto& [index, cluster] : clusters_) result.push_back(index);
    return result;
}

bool Membership::all_probed() const {
    return std::all_of(clusters_.begin(), clusters_.end(), [](const auto& entry) { return entry.second.probed(); });
}

std::vector<int> Membership::ready_clusters() const {
    std::vector<int> result;
    for (const auto& [index, cluster] : clusters_) {
        if (cluster.admitted && !cluster.draining) result.push_back(index);
    }
    return result;
}

std::vector<int> Membership::answering_slaves() const {
    std::vector<int> result;
    for (const auto& [index, cluster] : clusters_) {
        if (cluster.slave) result.push_back(index);
    }
    return result;
}

int Membership::followers_of(int leader) const {
    int count = 0;
    for (const auto& [index, cluster] : clusters_) {
        const auto& redis = cluster.redis;
        if (index != leader && redis && redis->role == RedisRole::replica && redis->master == leader) ++count;
    }
    return count;
}

}  // namespace cdb::coordination
