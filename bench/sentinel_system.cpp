#include "sentinel_system.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <stdexcept>

#include "cdb/redis_info.h"

namespace cdb::bench {
namespace {

const RedisTimeouts sentinel_timeouts{std::chrono::milliseconds(200), std::chrono::milliseconds(500)};

// SENTINEL MASTER / REPLICAS describe an instance as a flat array: name, value, name, value...
std::map<std::string, std::string> instance_fields(std::size_t size,
                                                   const std::function<const redisReply*(std::size_t)>& element) {
    std::map<std::string, std::string> fields;
    for (std::size_t i = 0; i + 1 < size; i += 2) {
        auto name = reply_text(element(i));
        auto value = reply_text(element(i + 1));
        if (name && value) fields[*name] = *value;
    }
    return fields;
}

std::string sentinel_config(int port, int master_port, const SentinelSettings& settings, const std::string& dir) {
    const std::string name = SentinelSystem::master_name;
    return "port " + std::to_string(port) + "\nbind 127.0.0.1\ndaemonize no\ndir " + dir +
           "\nsentinel monitor " + name + " 127.0.0.1 " + std::to_string(master_port) + " 2" +
           "\nsentinel down-after-milliseconds " + name + " " + std::to_string(settings.down_after_ms) +
           "\nsentinel failover-timeout " + name + " " + std::to_string(settings.failover_timeout_ms) +
           "\nsentinel parallel-syncs " + name + " " + std::to_string(settings.parallel_syncs) +
           // Every Redis requires a login (docs/SECURITY.md); the replicas log in to their master
           // with the replication user that redis-run gives them, the sentinels with this one.
           "\nsentinel auth-user " + name + " " + test::test_admin_user.user + "\nsentinel auth-pass " + name + " " +
           test::test_admin_user.password + "\n";
}

}  // namespace

SentinelSystem::SentinelSystem(const SentinelSettings& settings)
    : base_(test::free_port_block(1 + replicas + sentinels)) {
    char dir_template[] = "/tmp/cdb-sentinel-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error("cannot create a directory for the sentinels");
    config_dir_ = dir_template;
    redis_.push_back(std::make_unique<test::RedisServer>(base_, test::RedisStart::master));
    for (int i = 1; i <= replicas; ++i) {
        redis_.push_back(std::make_unique<test::RedisServer>(base_ + i, test::RedisStart::master));
        redis_.back()->start_replica_of(base_);
    }
    for (int i = 0; i < sentinels; ++i) {
        const int port = base_ + 1 + replicas + i;
        // Sentinel rewrites its configuration file (what it learnt), so each has its own.
        const std::string path = config_dir_ + "/sentinel-" + std::to_string(i) + ".conf";
        std::ofstream(path) << sentinel_config(port, base_, settings, config_dir_);
        sentinels_.push_back(std::make_unique<test::ChildProcess>(
            "sentinel-" + std::to_string(i), std::vector<std::string>{"redis-server", path, "--sentinel"}));
    }
}

SentinelSystem::~SentinelSystem() {
    sentinels_.clear();
    redis_.clear();
    std::filesystem::remove_all(config_dir_);
}

int SentinelSystem::redis_index(int port) const {
    const int index = port - base_;
    return index >= 0 && index <= replicas ? index : -1;
}

RedisReply SentinelSystem::ask_sentinel(int index, const std::vector<std::string>& command) const {
    std::string error;
    // Sentinels themselves take no login.
    auto connection = RedisConnection::open({"127.0.0.1", base_ + 1 + replicas + index}, sentinel_timeouts, {}, error);
    if (!connection) return RedisReply::failure(error);
    return connection->command(command);
}

std::vector<Endpoint> SentinelSystem::master_candidates() const {
    std::vector<Endpoint> candidates;
    for (int i = 0; i < sentinels; ++i) {
        auto reply = ask_sentinel(i, {"SENTINEL", "get-master-addr-by-name", master_name});
        if (reply.array_size() != 2) continue;
        auto host = reply_text(reply.element(0));
        auto port = reply_text(reply.element(1));
        if (!host || !port) continue;
        Endpoint endpoint{*host, std::atoi(port->c_str())};
        if (std::find(candidates.begin(), candidates.end(), endpoint) == candidates.end()) {
            candidates.push_back(endpoint);
        }
    }
    return candidates;
}

bool SentinelSystem::settled() const {
    const auto candidates = master_candidates();
    if (candidates.size() != 1) return false;  // none, or the sentinels disagree
    const int master = redis_index(candidates.front().port);
    if (master < 0) return false;
    auto info = redis_.at(master)->command({"INFO", "replication"});
    const auto text = info.text().value_or("");
    const auto replication = parse_replication_info(text);
    if (!replication || replication->role != "master" ||
        info_field(text, "connected_slaves").value_or("") != std::to_string(replicas)) {
        return false;
    }
    for (int r = 0; r < replicas; ++r) {
        if (info_field(text, "slave" + std::to_string(r)).value_or("").find("state=online") == std::string::npos) {
            return false;
        }
    }
    for (int s = 0; s < sentinels; ++s) {
        auto master_reply = ask_sentinel(s, {"SENTINEL", "MASTER", master_name});
        auto fields = instance_fields(master_reply.array_size(), [&](std::size_t i) { return master_reply.element(i); });
        // Flags "master" alone: not down for this sentinel, no failover in progress.
        if (fields["flags"] != "master" || fields["num-other-sentinels"] != std::to_string(sentinels - 1)) return false;
        auto replicas_reply = ask_sentinel(s, {"SENTINEL", "REPLICAS", master_name});
        if (replicas_reply.array_size() != static_cast<std::size_t>(replicas)) return false;
        for (std::size_t r = 0; r < replicas_reply.array_size(); ++r) {
            const redisReply* replica = replicas_reply.element(r);
            if (replica == nullptr || replica->type != REDIS_REPLY_ARRAY) return false;
            auto replica_fields = instance_fields(replica->elements, [&](std::size_t i) { return replica->element[i]; });
            if (replica_fields["flags"] != "slave") return false;
        }
    }
    return true;
}

std::string SentinelSystem::logs() const {
    std::string text;
    for (const auto& sentinel : sentinels_) text += sentinel->log();
    return text;
}

std::unique_ptr<RedisConnection> connect_to_master(const SentinelSystem& system, RedisTimeouts timeouts) {
    for (const auto& candidate : system.master_candidates()) {
        std::string error;
        auto connection = RedisConnection::open(candidate, timeouts, test::test_admin_user, error);
        if (!connection) continue;
        auto role = connection->command({"ROLE"});
        if (role.array_size() > 0 && reply_text(role.element(0)) == std::string("master")) return connection;
    }
    return nullptr;
}

}  // namespace cdb::bench
