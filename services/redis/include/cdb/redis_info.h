#pragma once
// Reads the replication section of Redis's INFO output: what the LB compares in an election and
// what /status reports.
#include <cstdint>
#include <optional>
#include <string>

namespace cdb {

struct ReplicationInfo {
    std::string role;  // "master" or "slave"
    std::int64_t offset = 0;
    std::string master_host;  // when role is "slave"
    int master_port = 0;
};

std::optional<std::string> info_field(const std::string& info, const std::string& name);
// nullopt when the text has no role line (not an INFO replication answer).
std::optional<ReplicationInfo> parse_replication_info(const std::string& info);

}  // namespace cdb
