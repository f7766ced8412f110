#pragma once
// The LB's I/O towards one cluster: probe its slave (/status) and its Redis (INFO replication),
// repoint its Redis (REPLICAOF) and announce the leader to its slave. Every call is bounded by the
// configured timeouts; HTTP goes through the LB's own client (upstream_loop.h), with the same
// connect and total bounds as forwarded requests. Any calls may run at the same time, but one
// Redis command per cluster: a frozen slave never holds its Redis's probe back, nor the reverse.
// It logs in to Redis as the coordinator user, which may not touch keys.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "cdb/cluster_addresses.h"
#include "cdb/config.h"
#include "cdb/control_key.h"
#include "cdb/coordination/decisions.h"
#include "cdb/coordination/events.h"
#include "cdb/coordination/lease_ledger.h"
#include "cdb/metrics.h"
#include "cdb/protocol.h"
#include "cdb/redis_connection.h"
#include "slave_state.h"
#include "socket_address.h"
#include "upstream_loop.h"

namespace cdb::lb {

// A lease as X-Lease-Grant carries it.
protocol::LeaseGrant to_wire(const coordination::LeaseGrant& grant);
// The whole X-Lease-Grant header line, CRLF included.
std::string lease_grant_line(const ControlKey& key, const coordination::LeaseGrant& grant);

class ClusterProber {
public:
    // `key` proves the announcements and checks the terms slaves report; what fails that check is
    // counted in `metrics` and never adopted.
    ClusterProber(const DeploymentConfig& config, const ClusterAddresses& addresses, const ControlKey& key,
                  Metrics& metrics);
    ~ClusterProber();

    // `slave`: where the slave's HTTP port was at the last lookup (none: its name did not resolve).
    // `grant`: a lease on the leader for the slave, sent with the probe.
    coordination::SlaveProbe probe_slave(int index, const std::optional<SocketAddress>& slave,
                                         const std::optional<coordination::LeaseGrant>& grant);
    coordination::RedisProbe probe_redis(int index);
    // REPLICAOF <master's Redis> or REPLICAOF NO ONE; false (and logged) when it failed.
    bool replica_of(int index, std::optional<int> master);
    // The slave's (term, leader) when it refused the announcement because it follows a newer term.
    std::optional<coordination::LeaderState> announce(int index, const std::optional<SocketAddress>& slave,
                                                      const coordination::Announcement& announcement,
                                                      const std::optional<coordination::LeaseGrant>& grant);

private:
    struct Connections {
        std::mutex redis_mutex;  // one Redis command per cluster at a time
        std::unique_ptr<RedisConnection> redis;
        std::atomic<bool> unproven{false};  // its last report lacked the proof: logged once, not every round
    };
    Connections& connections(int index);
    RedisReply redis_command(Connections& slot, int index, const std::vector<std::string>& command);
    // The slave's answer to `request_line` + `headers` + `body`, or none when the call failed.
    std::optional<UpstreamResponse> call_slave(int index, const std::optional<SocketAddress>& slave,
                                               const std::string& request_line, const std::string& headers,
                                               const std::string& body = "");
    std::optional<int> cluster_of(const std::string& host, int port) const;
    SlaveStateReading proven_state(Connections& slot, int index, const std::string& body, const char* message);

    const ClusterAddresses& addresses_;
    const ControlKey& key_;
    Metrics& metrics_;
    const RedisTimeouts redis_timeouts_;
    const RedisCredentials redis_credentials_;  // the coordinator user: election commands, no data
    const int max_index_;
    std::mutex map_mutex_;
    std::map<int, Connections> by_index_;
    DrivenUpstreamLoop http_;
};

}  // namespace cdb::lb
