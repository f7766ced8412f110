#pragma once
// Keep-alive HTTP clients to the slaves (cpp-httplib; Pistache's client crashes and mixes up
// responses under faults). One client holds one connection, so each slave gets a small stack of
// idle clients; a client whose request failed is dropped, never reused, so a late response can
// never be read as the answer to the next request.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "cdb/cluster_addresses.h"

namespace httplib {
class Client;
}

namespace cdb::lb {

struct UpstreamTimeouts {
    std::chrono::milliseconds connect{300};
    std::chrono::milliseconds total{2000};
};

class UpstreamPool {
public:
    class Lease {
    public:
        Lease(UpstreamPool* pool, int index, std::unique_ptr<httplib::Client> client);
        Lease(Lease&&) noexcept;
        Lease& operator=(Lease&&) = delete;
        ~Lease();
        httplib::Client& operator*() { return *client_; }
        httplib::Client* operator->() { return client_.get(); }
        // The request failed: the connection's state is unknown, so it is closed instead of reused.
        void discard() { keep_ = false; }

    private:
        UpstreamPool* pool_;
        int index_;
        std::unique_ptr<httplib::Client> client_;
        bool keep_ = true;
    };

    UpstreamPool(const ClusterAddresses& addresses, UpstreamTimeouts timeouts, std::size_t max_idle_per_slave);
    ~UpstreamPool();
    Lease acquire(int index);

private:
    void give_back(int index, std::unique_ptr<httplib::Client> client);
    std::unique_ptr<httplib::Client> make_client(int index) const;

    const ClusterAddresses& addresses_;
    const UpstreamTimeouts timeouts_;
    const std::size_t max_idle_per_slave_;
    std::mutex mutex_;
    std::map<int, std::vector<std::unique_ptr<httplib::Client>>> idle_;
};

}  // namespace cdb::lb
