#pragma once
// Which clusters should exist (docs/DEPLOY.md#scaling): the size the operator asked for, the
// clusters that were drained and left, and what the lookups of the clusters' names said. Knows
// nothing about leaders: the coordinator drains a cluster by moving the leadership off it first.
#include <set>
#include <vector>

#include "cdb/coordination/membership.h"

namespace cdb::coordination {

// The most clusters a deployment has: names past it are never looked up. The LB checks that it is
// the wire protocol's bound on a cluster index (protocol::max_clusters).
inline constexpr int max_clusters = 256;

// What the lookup of one cluster's name said.
enum class NameLookup {
    resolved,    // the name has an address: the cluster exists
    absent,      // the name does not exist: the cluster is gone (or not created yet)
    unanswered,  // no answer in time: a member stays, at its last address
};

class Roster {
public:
    // `names_per_cluster`: each cluster has its own name (slave-{i}); otherwise all share one host
    // (local runs) and only the size says which exist.
    Roster(int size, bool names_per_cluster);

    int desired_size() const { return desired_size_; }
    // Clusters that were drained and left: kept out until wanted again (a scale-up) or until their
    // name disappears (if it comes back, it is a new cluster).
    const std::set<int>& departed() const { return departed_; }

    void request_size(int size);
    // Clusters 0 .. n-1 are looked up: every member, every wanted cluster, and a few past them, to
    // notice clusters added behind the LB's back (kubectl scale). 0 when the names are all one host.
    int names_to_resolve(const Membership& members) const;
    // The clusters that exist after `lookups` (of names 0 .. lookups.size() - 1; a member past them
    // counts as unanswered). A cluster that resolves past the desired size and is not being drained
    // was added behind the LB's back: the desired size grows to include it.
    std::vector<int> present(const std::vector<NameLookup>& lookups, const Membership& members);
    // Members at or past the desired size are to be drained, the others not.
    bool wanted(int index) const { return index < desired_size_; }
    void depart(int index) { departed_.insert(index); }

private:
    int desired_size_;
    const bool names_per_cluster_;
    std::set<int> departed_;
};

}  // namespace cdb::coordination
