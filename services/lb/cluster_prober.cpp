#include "cluster_prober.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "cdb/protocol.h"
#include "cdb/redis_info.h"
#include "slave_state.h"

namespace cdb::lb {
namespace {

httplib::Headers grant_headers(const ControlKey& key, const std::optional<coordination::LeaseGrant>& grant) {
    if (!grant) return {};
    return {{protocol::lease_grant_header, protocol::encode_lease_grant(key, to_wire(*grant))}};
}

}  // namespace

protocol::LeaseGrant to_wire(const coordination::LeaseGrant& grant) {
    return protocol::LeaseGrant{grant.state.term, grant.state.leader, grant.nonce, grant.duration_ms};
}

ClusterProber::ClusterProber(const DeploymentConfig& config, const ClusterAddresses& addresses,
                             const ControlKey& key, Metrics& metrics)
    : addresses_(addresses),
      key_(key),
      metrics_(metrics),
      redis_timeouts_{std::chrono::milliseconds(config.redis.connect_timeout_ms),
                      std::chrono::milliseconds(config.redis.command_timeout_ms)},
      redis_credentials_{redis_coordinator_user, config.redis.coordinator_password},
      http_connect_timeout_(config.http.upstream_connect_timeout_ms),
      // Rounds wait for their slowest probe, so a black-holed slave delays failure detection by
      // this much per round; but a loaded slave must still get its answer in (measured: at 100 ms a
      // busy 2-core machine kept a healthy slave out of forwarding for good).
      http_timeout_(std::min(config.http.upstream_timeout_ms, std::max(2 * config.election.probe_interval_ms, 300))),
      max_index_(protocol::max_clusters) {
    metrics_.describe("control_rejected_total", "counter",
                      "Slave answers whose leader term lacked the LB's proof; never adopted.");
}

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

coordination::ClusterProbe ClusterProber::probe(int index, const std::optional<coordination::LeaseGrant>& grant) {
    Connections& slot = connections(index);
    std::lock_guard<std::mutex> lock(slot.mutex);
    coordination::ClusterProbe probe;
    probe.index = index;

    auto status = slave_client(slot, index).Get(protocol::status_path, grant_headers(key_, grant));
    if (status && status->status == 200) {
        const SlaveStateReading reading = proven_state(slot, index, status->body, "status");
        probe.slave = reading.state;
        probe.lease_nonce = reading.lease_nonce;
    } else if (!status) {
        slot.slave.reset();  // unknown connection state after an error: never reuse it
    } else {
        probe.slave_stopping = status->get_header_value(protocol::retry_elsewhere_header) == protocol::stopping_reason;
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
                                                                 const coordination::Announcement& announcement,
                                                                 const std::optional<coordination::LeaseGrant>& grant) {
    Connections& slot = connections(index);
    std::lock_guard<std::mutex> lock(slot.mutex);
    const std::string body = protocol::encode_announcement(
        key_, LeaderState{announcement.state.term, announcement.state.leader, announcement.followers});
    auto answer = slave_client(slot, index).Put(protocol::announce_path, grant_headers(key_, grant), body, "application/json");
    if (!answer) {
        slot.slave.reset();
        return std::nullopt;
    }
    if (answer->status == 403) {
        spdlog::error("slave {} refused the announcement's proof: is CONTROL_PLANE_KEY the same on the LB and the "
                      "slaves? ({})", index, answer->body);
    }
    if (answer->status == 409) return proven_state(slot, index, answer->body, "announcement_refusal").state;
    return std::nullopt;
}

SlaveStateReading ClusterProber::proven_state(Connections& slot, int index, const std::string& body,
                                             const char* message) {
    const SlaveStateReading reading = read_slave_state(key_, body);
    if (reading.unproven) metrics_.add("control_rejected_total", label("message", message));
    if (reading.unproven && !slot.unproven) {
        spdlog::warn("slave {} reported a leader term without the LB's proof; ignored (is CONTROL_PLANE_KEY the same "
                     "on the LB and the slaves?)", index);
    }
    slot.unproven = reading.unproven;
    return reading;
}

}  // namespace cdb::lb
