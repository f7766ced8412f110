#include "cluster_prober.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "cdb/json_builder.h"
#include "cdb/redis_info.h"
#include "slave_state.h"

namespace cdb::lb {
namespace {

constexpr int max_clusters = 256;

}  // namespace

ClusterProber::ClusterProber(const DeploymentConfig& config, const ClusterAddresses& addresses)
    : addresses_(addresses),
      redis_timeouts_{std::chrono::milliseconds(config.redis.connect_timeout_ms),
                      std::chrono::milliseconds(config.redis.command_timeout_ms)},
      redis_credentials_{redis_coordinator_user, config.redis.coordinator_password},
      http_connect_timeout_(config.http.upstream_connect_timeout_ms),
      // Rounds wait for their slowest probe, so a black-holed slave delays failure detection by
      // this much per round; but a loaded slave must still get its answer in (measured: at 100 ms a
      // busy 2-core machine kept a healthy slave out of forwarding for good).
      http_timeout_(std::min(config.http.upstream_timeout_ms, std::max(2 * config.election.probe_interval_ms, 300))),
      max_index_(max_clusters) {}

ClusterProber::~ClusterProber() = default;

ClusterProber::Connections& ClusterProber::connections(int index) {
    std::lock_guard<std::mutex> lock(map_mutex_);
    return by_index_[index];  // std::map nodes stay put, so the reference outlives the lock
}

RedisReply ClusterProber::redis_command(Connections& slot, int index, const std::vector<std::string>& command) {
    if (!slot.redis || slot.redis->broken()) {
        std::string error;
        slot.redis = RedisConnection::open(addresses_.redis(index), redis_timeouts_, redis_credentials_, error);
        if (!slot.redis) return RedisReply::failure(error);
    }
    return slot.redis->command(command);
}

httplib::Client& ClusterProber::slave_client(Connections& slot, int index) {
    if (!slot.slave) {
        const Endpoint endpoint = addresses_.slave(index);
        slot.slave = std::make_unique<httplib::Client>(endpoint.host, endpoint.port);
        slot.slave->set_keep_alive(true);
        slot.slave->set_connection_timeout(http_connect_timeout_);
        slot.slave->set_read_timeout(http_timeout_);
        slot.slave->set_write_timeout(http_timeout_);
    }
    return *slot.slave;
}

std::optional<int> ClusterProber::cluster_of(const std::string& host, int port) const {
    for (int index = 0; index < max_index_; ++index) {
        if (addresses_.redis(index) == Endpoint{host, port}) return index;
    }
    return std::nullopt;
}

coordination::ClusterProbe ClusterProber::probe(int index) {
    Connections& slot = connections(index);
    std::lock_guard<std::mutex> lock(slot.mutex);
    coordination::ClusterProbe probe;
    probe.index = index;

    auto status = slave_client(slot, index).Get("/status");
    if (status && status->status == 200) {
        probe.slave = parse_slave_state(status->body);
    } else if (!status) {
        slot.slave.reset();  // unknown connection state after an error: never reuse it
    }

    RedisReply reply = redis_command(slot, index, {"INFO", "replication"});
    if (auto info = parse_replication_info(reply.text().value_or(""))) {
        coordination::RedisInfo redis;
        redis.offset = info->offset;
        if (info->role == "master") {
            redis.role = coordination::RedisRole::master;
        } else {
            redis.role = coordination::RedisRole::replica;
            redis.master = cluster_of(info->master_host, info->master_port).value_or(coordination::no_cluster);
        }
        probe.redis = redis;
    }
    return probe;
}

bool ClusterProber::replica_of(int index, std::optional<int> master) {
    Connections& slot = connections(index);
    std::lock_guard<std::mutex> lock(slot.mutex);
    std::vector<std::string> command{"REPLICAOF", "NO", "ONE"};
    if (master) {
        const Endpoint target = addresses_.redis(*master);
        command = {"REPLICAOF", target.host, std::to_string(target.port)};
    }
    RedisReply reply = redis_command(slot, index, command);
    const bool done = reply.is_status("OK");
    if (!done) {
        spdlog::warn("REPLICAOF on cluster {} failed: {}", index,
                     reply.io_error() ? reply.error_message() : reply.text().value_or("?"));
    }
    return done;
}

std::optional<coordination::LeaderState> ClusterProber::announce(int index,
                                                                 const coordination::Announcement& announcement) {
    Connections& slot = connections(index);
    std::lock_guard<std::mutex> lock(slot.mutex);
    const std::string body = JsonBuilder()
                                 .field("term", announcement.state.term)
                                 .field("leader", announcement.state.leader)
                                 .field("followers", announcement.followers)
                                 .str();
    auto answer = slave_client(slot, index).Put("/internal/leader", body, "application/json");
    if (!answer) {
        slot.slave.reset();
        return std::nullopt;
    }
    if (answer->status == 409) return parse_slave_state(answer->body);
    return std::nullopt;
}

}  // namespace cdb::lb
