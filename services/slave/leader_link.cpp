#include "leader_link.h"

#include <spdlog/spdlog.h>

namespace cdb::slave {
namespace {

bool is_not_master_error(const RedisReply& reply) {
    if (!reply.is_error_reply()) return false;
    const std::string text = reply.text().value_or("");
    for (const char* prefix : {"READONLY", "LOADING", "MASTERDOWN"}) {
        if (text.rfind(prefix, 0) == 0) return true;
    }
    return false;
}

}  // namespace

LeaderLink::LeaderLink(const DeploymentConfig& config, const ClusterAddresses& addresses)
    : addresses_(addresses),
      replication_(config.replication),
      control_key_(config.control_plane_key),
      pool_(static_cast<std::size_t>(config.redis.pool_size),
            RedisTimeouts{std::chrono::milliseconds(config.redis.connect_timeout_ms),
                          std::chrono::milliseconds(config.redis.command_timeout_ms)},
            RedisCredentials{redis_data_user, config.redis.data_password},
            std::chrono::milliseconds(config.redis.command_timeout_ms)) {}

LeaderUpdate LeaderLink::propose(const LeaderState& proposal) {
    std::lock_guard<std::mutex> lock(mutex_);
    const LeaderUpdate update = apply_leader_update(state_, proposal);
    if (update == LeaderUpdate::adopted) {
        pool_.retarget(addresses_.redis(state_.leader));
        failures_consecutive_ = 0;
        spdlog::info("following leader {} (Redis {}) at term {}", state_.leader,
                     addresses_.redis(state_.leader).to_string(), state_.term);
    } else if (update != LeaderUpdate::confirmed) {
        spdlog::warn("refused leader {} at term {}: {} (we follow {} at term {})", proposal.leader, proposal.term,
                     to_string(update), state_.leader, state_.term);
    }
    return update;
}

LeaderState LeaderLink::state() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return state_;
}

LeaderCall LeaderLink::read(const std::vector<std::string>& command) { return run(command, false); }

LeaderCall LeaderLink::write(const std::vector<std::string>& command) { return run(command, true); }

LeaderCall LeaderLink::run(const std::vector<std::string>& command, bool is_write) {
    LeaderCall call;
    call.state = state();
    if (!call.state.known()) {
        call.failure = LeaderFailure::no_leader;
        call.message = "no Redis-leader is known yet: waiting for the load balancer's announcement";
        return call;
    }
    PoolError error;
    auto lease = pool_.acquire(error);
    if (!lease) {
        call.failure = error.kind == PoolError::Kind::exhausted ? LeaderFailure::busy : LeaderFailure::leader_unreachable;
        call.message = error.message;
        record(call);
        return call;
    }
    call.reply = (*lease)->command(command);
    if (call.reply.io_error()) {
        call.failure = LeaderFailure::leader_unreachable;
        call.message = call.reply.error_message();
        call.outcome_unknown = is_write && call.reply.maybe_run();
    } else if (is_not_master_error(call.reply)) {
        call.failure = LeaderFailure::leader_not_master;
        call.message = "Redis at " + (*lease)->endpoint().to_string() + " is not a usable leader: " +
                       call.reply.text().value_or("");
    } else if (is_write && !call.reply.is_error_reply()) {
        call.replication = replicate(**lease, call.state);
    }
    record(call);
    return call;
}

std::string LeaderLink::replicate(RedisConnection& connection, const LeaderState& state) {
    switch (replication_.mode) {
        case ReplicationMode::none: return "none";
        case ReplicationMode::async: return "async";
        case ReplicationMode::sync: break;
    }
    // With no follower attached, waiting would only add sync_timeout_ms to every write.
    if (state.followers == 0) return "degraded";
    RedisReply acked = connection.command({"WAIT", "1", std::to_string(replication_.sync_timeout_ms)});
    return acked.integer().value_or(0) >= 1 ? "synced" : "degraded";
}

void LeaderLink::record(LeaderCall& call) {
    const bool counts = call.failure == LeaderFailure::leader_unreachable ||
                        call.failure == LeaderFailure::leader_not_master;
    if (!counts) {
        if (call.failure == LeaderFailure::none) failures_consecutive_ = 0;
        return;
    }
    ++failures_total_;
    ++failures_consecutive_;
    spdlog::warn("leader {} at term {} failed: {}", call.state.leader, call.state.term, call.message);
}

}  // namespace cdb::slave
