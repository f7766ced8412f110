#include "cluster_prober.h"

#include <spdlog/spdlog.h>

#include <future>

#include "cdb/coordination/timings.h"
#include "cdb/protocol.h"
#include "cdb/redis_info.h"
#include "slave_state.h"

namespace cdb::lb {
namespace {

UpstreamLimits probe_limits(const DeploymentConfig& config) {
    UpstreamLimits limits;
    limits.connect = std::chrono::milliseconds(config.http.upstream_connect_timeout_ms);
    limits.total = std::chrono::milliseconds(
        coordination::election_timings(config.election.probe_interval_ms, config.http.upstream_timeout_ms)
            .slave_probe_timeout);
    limits.max_response_bytes = 64 * 1024;  // a /status answer or a refusal: a few hundred bytes
    limits.max_idle_per_slave = 1;          // one probe or announcement per cluster at a time, mostly
    limits.max_connections = 4 * protocol::max_clusters;
    return limits;
}

std::string grant_header(const ControlKey& key, const std::optional<coordination::LeaseGrant>& grant) {
    return grant ? lease_grant_line(key, *grant) : "";
}

}  // namespace

protocol::LeaseGrant to_wire(const coordination::LeaseGrant& grant) {
    return protocol::LeaseGrant{grant.state.term, grant.state.leader, grant.nonce, grant.duration_ms};
}

std::string lease_grant_line(const ControlKey& key, const coordination::LeaseGrant& grant) {
    return std::string(protocol::lease_grant_header) + ": " + protocol::encode_lease_grant(key, to_wire(grant)) +
           "\r\n";
}

ClusterProber::ClusterProber(const DeploymentConfig& config, const ClusterAddresses& addresses,
                             const ControlKey& key, Metrics& metrics)
    : addresses_(addresses),
      key_(key),
      metrics_(metrics),
      redis_timeouts_{std::chrono::milliseconds(config.redis.connect_timeout_ms),
                      std::chrono::milliseconds(config.redis.command_timeout_ms)},
      redis_credentials_{redis_coordinator_user, config.redis.coordinator_password},
      max_index_(protocol::max_clusters),
      http_(probe_limits(config)) {
    metrics_.describe("control_rejected_total", "counter",
                      "Control messages refused, by message: slave answers whose leader term lacked the proof "
                      "(never adopted), leave requests forged, stale or replayed (nothing changed).");
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

std::optional<UpstreamResponse> ClusterProber::call_slave(int index, const std::optional<SocketAddress>& slave,
                                                         const std::string& request_line, const std::string& headers,
                                                         const std::string& body) {
    const Endpoint endpoint = addresses_.slave(index);
    UpstreamCall call;
    call.slave = index;
    call.address = slave;
    call.request = request_line + "Host: " + endpoint.host + ":" + std::to_string(endpoint.port) + "\r\n" + headers;
    if (!body.empty()) {
        call.request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    call.request += "\r\n" + body;
    auto outcome = std::make_shared<std::promise<UpstreamOutcome>>();
    auto answered = outcome->get_future();
    call.done = [outcome](UpstreamOutcome result) { outcome->set_value(std::move(result)); };
    http_.loop().submit(std::move(call));
    // The loop ends every call by its deadline, or at once when it stops.
    UpstreamOutcome result = answered.get();
    if (!result.response) spdlog::debug("slave {}: {}", index, result.problem);
    return std::move(result.response);
}

std::optional<int> ClusterProber::cluster_of(const std::string& host, int port) const {
    for (int index = 0; index < max_index_; ++index) {
        if (addresses_.redis(index) == Endpoint{host, port}) return index;
    }
    return std::nullopt;
}

coordination::SlaveProbe ClusterProber::probe_slave(int index, const std::optional<SocketAddress>& slave,
                                                    const std::optional<coordination::LeaseGrant>& grant) {
    coordination::SlaveProbe probe;
    probe.index = index;
    const auto status = call_slave(index, slave, "GET " + std::string(protocol::status_path) + " HTTP/1.1\r\n",
                                   grant_header(key_, grant));
    if (status && status->status == 200) {
        const SlaveStateReading reading = proven_state(connections(index), index, status->body, "status");
        probe.state = reading.state;
        probe.lease_nonce = reading.lease_nonce;
    } else if (status) {
        probe.stopping = status->header(protocol::retry_elsewhere_header) == protocol::stopping_reason;
    }
    return probe;
}

coordination::RedisProbe ClusterProber::probe_redis(int index) {
    Connections& slot = connections(index);
    std::lock_guard<std::mutex> lock(slot.redis_mutex);
    coordination::RedisProbe probe;
    probe.index = index;
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
        probe.info = redis;
    }
    return probe;
}

bool ClusterProber::replica_of(int index, std::optional<int> master) {
    Connections& slot = connections(index);
    std::lock_guard<std::mutex> lock(slot.redis_mutex);
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

std::optional<coordination::LeaderState> ClusterProber::announce(int index, const std::optional<SocketAddress>& slave,
                                                                 const coordination::Announcement& announcement,
                                                                 const std::optional<coordination::LeaseGrant>& grant) {
    const std::string body = protocol::encode_announcement(
        key_, AnnouncedLeader{announcement.state.term, announcement.state.leader, announcement.followers});
    const auto answer = call_slave(index, slave, "PUT " + std::string(protocol::announce_path) + " HTTP/1.1\r\n",
                                   grant_header(key_, grant), body);
    if (!answer) return std::nullopt;
    if (answer->status == 403) {
        spdlog::error("slave {} refused the announcement's proof: is CONTROL_PLANE_KEY the same on the LB and the "
                      "slaves? ({})", index, answer->body);
    }
    if (answer->status == 409) return proven_state(connections(index), index, answer->body, "announcement_refusal").state;
    return std::nullopt;
}

SlaveStateReading ClusterProber::proven_state(Connections& slot, int index, const std::string& body,
                                             const char* message) {
    const SlaveStateReading reading = read_slave_state(key_, body);
    if (reading.unproven) metrics_.add("control_rejected_total", label("message", message));
    if (reading.unproven && !slot.unproven.exchange(true)) {
        spdlog::warn("slave {} reported a leader term without the LB's proof; ignored (is CONTROL_PLANE_KEY the same "
                     "on the LB and the slaves?)", index);
    }
    if (!reading.unproven) slot.unproven = false;
    return reading;
}

}  // namespace cdb::lb
