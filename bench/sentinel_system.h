#pragma once
// Redis Sentinel as the reference for failover: 1 master, 2 replicas and 3 sentinels (quorum 2) on
// free loopback ports, each process owned by this object and killed when it goes away.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cdb/cluster_addresses.h"
#include "cdb/redis_connection.h"
#include "test_processes.h"

namespace cdb::bench {

struct SentinelSettings {
    int down_after_ms = 1000;
    int failover_timeout_ms = 3000;
    int parallel_syncs = 1;
};

class SentinelSystem {
public:
    static constexpr const char* master_name = "bench";
    static constexpr int replicas = 2;
    static constexpr int sentinels = 3;

    explicit SentinelSystem(const SentinelSettings& settings);
    ~SentinelSystem();
    SentinelSystem(const SentinelSystem&) = delete;
    SentinelSystem& operator=(const SentinelSystem&) = delete;

    // Redis servers are numbered 0..replicas; 0 is the first master.
    test::RedisServer& redis(int index) { return *redis_.at(index); }
    int redis_index(int port) const;  // -1 when no server of this system has that port
    // The masters the sentinels name, asked in order, without repeats: a client's candidates, in the
    // order it tries them (during a failover they may disagree). Empty when no sentinel answers.
    std::vector<Endpoint> master_candidates() const;
    // Every sentinel names the same master, which has every replica online, and no sentinel sees a
    // replica down or a failover in progress.
    bool settled() const;
    std::string logs() const;  // the sentinels' logs, for failure messages

private:
    RedisReply ask_sentinel(int index, const std::vector<std::string>& command) const;

    int base_;
    std::string config_dir_;
    std::vector<std::unique_ptr<test::RedisServer>> redis_;
    std::vector<std::unique_ptr<test::ChildProcess>> sentinels_;
};

// A connection to the current master the way a Sentinel-aware client makes one: ask the sentinels,
// connect with bounded timeouts, and check with ROLE that the server is a master.
std::unique_ptr<RedisConnection> connect_to_master(const SentinelSystem& system, RedisTimeouts timeouts);

}  // namespace cdb::bench
