#pragma once
// What forwarding threads need from the coordinator, published as one immutable snapshot: the
// coordinator loop is the only writer, request threads only read, and nobody waits on the other.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cdb/coordination/events.h"
#include "socket_address.h"

namespace cdb::lb {

struct RoutingView {
    coordination::LeaderState state;
    std::string leader_proof;  // X-Leader-Proof of `state` (docs/PROTOCOL.md); empty at term 0
    std::vector<int> ready;  // slaves that receive forwarded requests
    std::map<int, SocketAddress> addresses;  // where each slave's HTTP port was, at the last lookup
    // Per slave, the X-Lease-Grant header line its forwarded requests carry: a slave that adopts a
    // new term from a request gets its lease with it, not one probe round later.
    std::map<int, std::string> lease_grant_lines;
};

class RoutingBoard {
public:
    RoutingBoard() : view_(std::make_shared<const RoutingView>()) {}
    void publish(RoutingView view) {
        auto next = std::make_shared<const RoutingView>(std::move(view));
        std::lock_guard<std::mutex> lock(mutex_);
        view_ = std::move(next);
    }
    std::shared_ptr<const RoutingView> current() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return view_;
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const RoutingView> view_;
};

}  // namespace cdb::lb
