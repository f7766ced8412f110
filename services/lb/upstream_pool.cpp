#include "upstream_pool.h"

#include <httplib.h>

namespace cdb::lb {

UpstreamPool::Lease::Lease(UpstreamPool* pool, int index, std::unique_ptr<httplib::Client> client)
    : pool_(pool), index_(index), client_(std::move(client)) {}

UpstreamPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), index_(other.index_), client_(std::move(other.client_)), keep_(other.keep_) {}

UpstreamPool::Lease::~Lease() {
    if (client_ && keep_) pool_->give_back(index_, std::move(client_));
}

UpstreamPool::UpstreamPool(const ClusterAddresses& addresses, UpstreamTimeouts timeouts,
                           std::size_t max_idle_per_slave)
    : addresses_(addresses), timeouts_(timeouts), max_idle_per_slave_(max_idle_per_slave) {}

UpstreamPool::~UpstreamPool() = default;

std::unique_ptr<httplib::Client> UpstreamPool::make_client(int index) const {
    const Endpoint endpoint = addresses_.slave(index);
    auto client = std::make_unique<httplib::Client>(endpoint.host, endpoint.port);
    client->set_keep_alive(true);
    client->set_connection_timeout(timeouts_.connect);
    client->set_read_timeout(timeouts_.total);
    client->set_write_timeout(timeouts_.total);
    return client;
}

UpstreamPool::Lease UpstreamPool::acquire(int index) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto& idle = idle_[index];
        if (!idle.empty()) {
            auto client = std::move(idle.back());
            idle.pop_back();
            return Lease(this, index, std::move(client));
        }
    }
    return Lease(this, index, make_client(index));
}

void UpstreamPool::give_back(int index, std::unique_ptr<httplib::Client> client) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& idle = idle_[index];
    if (idle.size() < max_idle_per_slave_) idle.push_back(std::move(client));
}

}  // namespace cdb::lb
