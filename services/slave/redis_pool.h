#pragma once
// A bounded set of connections to one Redis that can be re-pointed (the leader moves). Callers that
// find every connection busy wait at most `acquire_timeout`; connections to a previous target are
// closed when they come back instead of being reused.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "cdb/redis_connection.h"

namespace cdb {

struct PoolError {
    enum class Kind { no_target, exhausted, connect_failed } kind = Kind::no_target;
    std::string message;
};

class RedisPool {
public:
    class Lease {
    public:
        Lease(RedisPool* pool, std::unique_ptr<RedisConnection> connection, std::uint64_t generation);
        Lease(Lease&& other) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        ~Lease();
        RedisConnection& operator*() { return *connection_; }
        RedisConnection* operator->() { return connection_.get(); }

    private:
        RedisPool* pool_;
        std::unique_ptr<RedisConnection> connection_;
        std::uint64_t generation_;
    };

    RedisPool(std::size_t size, RedisTimeouts timeouts, RedisCredentials credentials,
              std::chrono::milliseconds acquire_timeout);

    void retarget(const Endpoint& endpoint);
    std::optional<Endpoint> target() const;

    // A connection to the current target, or nullopt with `error` set.
    std::optional<Lease> acquire(PoolError& error);

private:
    void give_back(std::unique_ptr<RedisConnection> connection, std::uint64_t generation);

    const std::size_t size_;
    const RedisTimeouts timeouts_;
    const RedisCredentials credentials_;
    const std::chrono::milliseconds acquire_timeout_;
    mutable std::mutex mutex_;
    std::condition_variable returned_;
    std::optional<Endpoint> target_;
    std::uint64_t generation_ = 0;
    std::size_t leased_ = 0;
    std::vector<std::unique_ptr<RedisConnection>> idle_;
};

}  // namespace cdb
