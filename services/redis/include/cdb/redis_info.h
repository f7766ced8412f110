#pragma once
// Reads the replication section of Redis's INFO output: what the LB compares in an election, what
// /status reports and what a slave's readiness checks.
#include <cstdint>
#include <optional>
#include <string>

namespace cdb {

struct ReplicationInfo {
    std::string role;  // "master" or "slave"
    std::int64_t offset = 0;
    std::string master_host;  // when role is "slave"
    int master_port = 0;
    // When role is "slave": master_link_status is "up" (the initial sync has been loaded and the
    // stream flows), and master_sync_in_progress is 1 (a full sync is being transferred).
    bool master_link_up = false;
    bool sync_in_progress = false;
};

std::optional<std::string> info_field(const std::string& info, const std::string& name);
// nullopt when the text has no role line (not an INFO replication answer).
std::optional<ReplicationInfo> parse_replication_info(const std::string& info);

}  // namespace cdb
