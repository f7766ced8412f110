#include "cdb/redis_info.h"

#include <cstdlib>
#include <sstream>

namespace cdb {

std::optional<std::string> info_field(const std::string& info, const std::string& name) {
    std::istringstream lines(info);
    std::string line;
    const std::string wanted = name + ":";
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.rfind(wanted, 0) == 0) return line.substr(wanted.size());
    }
    return std::nullopt;
}

std::optional<ReplicationInfo> parse_replication_info(const std::string& info) {
    auto role = info_field(info, "role");
    if (!role) return std::nullopt;
    auto number = [&](const std::string& name) -> std::int64_t {
        auto value = info_field(info, name);
        return value ? std::strtoll(value->c_str(), nullptr, 10) : 0;
    };
    ReplicationInfo parsed;
    parsed.role = *role;
    // A replica reports how far it has processed its master's stream in master_repl_offset too.
    parsed.offset = number("master_repl_offset");
    parsed.master_host = info_field(info, "master_host").value_or("");
    parsed.master_port = static_cast<int>(number("master_port"));
    parsed.master_link_up = info_field(info, "master_link_status") == "up";
    parsed.sync_in_progress = number("master_sync_in_progress") != 0;
    return parsed;
}

}  // namespace cdb
