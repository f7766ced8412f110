#pragma once
// What forwarding threads need from the coordinator, published as one immutable snapshot: the
// coordinator loop is the only writer, request threads only read, and nobody waits on the other.
#include <functional>
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
    using Listener = std::function<void(const RoutingView& previous, const RoutingView& next)>;

    RoutingBoard() : view_(std::make_shared<const RoutingView>()) {}
    void publish(RoutingView view) {
        auto next = std::make_shared<const RoutingView>(std::move(view));
        std::shared_ptr<const RoutingView> previous;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            previous = std::move(view_);
            view_ = next;
        }
        std::lock_guard<std::mutex> lock(listener_mutex_);
        if (listener_) listener_(*previous, *next);
    }
    std::shared_ptr<const RoutingView> current() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return view_;
    }
    // Called on the publisher's thread after each publication; an empty one removes it (and waits
    // for a call in progress to end, so its owner may then go away).
    void listen(Listener listener) {
        std::lock_guard<std::mutex> lock(listener_mutex_);
        listener_ = std::move(listener);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const RoutingView> view_;
    std::mutex listener_mutex_;
    Listener listener_;
};

}  // namespace cdb::lb
