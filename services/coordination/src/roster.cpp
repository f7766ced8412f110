#include "cdb/coordination/roster.h"

#include <algorithm>

namespace cdb::coordination {

namespace {
// Names past the known clusters that are looked up, to notice clusters added by kubectl scale.
constexpr int discovery_lookahead = 4;

bool draining(const Membership& members, int index) {
    const ClusterState* cluster = members.find(index);
    return cluster && cluster->draining;
}
}  // namespace

Roster::Roster(int size, bool names_per_cluster) : desired_size_(size), names_per_cluster_(names_per_cluster) {}

void Roster::request_size(int size) {
    desired_size_ = size;
    for (auto it = departed_.begin(); it != departed_.end();) {
        it = wanted(*it) ? departed_.erase(it) : std::next(it);
    }
}

int Roster::names_to_resolve(const Membership& members) const {
    if (!names_per_cluster_) return 0;
    const auto indices = members.indices();
    const int known = indices.empty() ? 0 : indices.back() + 1;
    return std::min(max_clusters, std::max(desired_size_, known) + discovery_lookahead);
}

std::vector<int> Roster::present(const std::vector<NameLookup>& lookups, const Membership& members) {
    std::vector<int> result;
    if (!names_per_cluster_) {
        for (int index = 0; index < max_clusters; ++index) {
            if ((wanted(index) || draining(members, index)) && !departed_.count(index)) result.push_back(index);
        }
        return result;
    }
    const int looked_up = static_cast<int>(lookups.size());
    for (int index : members.indices()) {
        if (index >= looked_up) result.push_back(index);
    }
    for (int index = 0; index < looked_up; ++index) {
        const NameLookup lookup = lookups[static_cast<std::size_t>(index)];
        if (lookup == NameLookup::absent) {
            departed_.erase(index);
            continue;
        }
        // One slow lookup under load must not take a member away (the leader's cluster: an election,
        // and the writes in flight to it); a cluster that is not one yet waits for an answer.
        if (lookup == NameLookup::unanswered && !members.contains(index)) continue;
        if (departed_.count(index)) continue;
        if (!wanted(index) && !draining(members, index)) desired_size_ = index + 1;
        result.push_back(index);
    }
    std::sort(result.begin(), result.end());
    return result;
}

}  // namespace cdb::coordination
