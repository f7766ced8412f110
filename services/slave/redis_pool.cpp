#include "redis_pool.h"

namespace cdb {

RedisPool::Lease::Lease(RedisPool* pool, std::unique_ptr<RedisConnection> connection, std::uint64_t generation)
    : pool_(pool), connection_(std::move(connection)), generation_(generation) {}

RedisPool::Lease::~Lease() {
    if (pool_ && connection_) pool_->give_back(std::move(connection_), generation_);
}

RedisPool::RedisPool(std::size_t size, RedisTimeouts timeouts, RedisCredentials credentials,
                     std::chrono::milliseconds acquire_timeout)
    : size_(size), timeouts_(timeouts), credentials_(std::move(credentials)), acquire_timeout_(acquire_timeout) {}

void RedisPool::retarget(const Endpoint& endpoint) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (target_ && *target_ == endpoint) return;
    target_ = endpoint;
    ++generation_;
    idle_.clear();
}

std::optional<Endpoint> RedisPool::target() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return target_;
}

std::optional<RedisPool::Lease> RedisPool::acquire(PoolError& error) {
    std::unique_lock<std::mutex> lock(mutex_);
    const bool slot_free = returned_.wait_for(lock, acquire_timeout_, [&] {
        return !idle_.empty() || leased_ + idle_.size() < size_;
    });
    if (!target_) {
        error = {PoolError::Kind::no_target, "the pool has no Redis to connect to yet"};
        return std::nullopt;
    }
    if (!slot_free) {
        error = {PoolError::Kind::exhausted, "all " + std::to_string(size_) + " Redis connections stayed busy for " +
                                                 std::to_string(acquire_timeout_.count()) + " ms"};
        return std::nullopt;
    }
    const std::uint64_t generation = generation_;
    ++leased_;
    if (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(connection), generation);
    }
    const Endpoint endpoint = *target_;
    lock.unlock();
    // Connecting can take up to the connect timeout: never while holding the lock.
    auto connection = RedisConnection::open(endpoint, timeouts_, credentials_, error.message);
    if (!connection) {
        error.kind = PoolError::Kind::connect_failed;
        lock.lock();
        --leased_;
        returned_.notify_one();
        return std::nullopt;
    }
    return Lease(this, std::move(connection), generation);
}

void RedisPool::give_back(std::unique_ptr<RedisConnection> connection, std::uint64_t generation) {
    std::lock_guard<std::mutex> lock(mutex_);
    --leased_;
    if (!connection->broken() && generation == generation_) idle_.push_back(std::move(connection));
    returned_.notify_one();
}

}  // namespace cdb
