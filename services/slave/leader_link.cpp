#include "leader_link.h"

#include <spdlog/spdlog.h>

#include <random>

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
            std::chrono::milliseconds(config.redis.command_timeout_ms)),
      lease_(std::random_device{}() * (std::uint64_t{1} << 32) + std::random_device{}()) {}

LeaderUpdate LeaderLink::propose(const AnnouncedLeader& proposal) {
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

AnnouncedLeader LeaderLink::state() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return state_;
}

bool LeaderLink::accept_lease_grant(const HttpRequest& request) {
    const auto header = request.header(protocol::lease_grant_header);
    if (!header) return true;
    const auto verdict = protocol::decode_lease_grant(control_key_, *header);
    if (!verdict.grant) return false;
    lease_.renew(*verdict.grant, state());
    return true;
}

LeaderCall LeaderLink::read(const std::vector<std::string>& command) { return run(command, Use::read); }

LeaderCall LeaderLink::write(const std::vector<std::string>& command) { return run(command, Use::write); }

LeaderCall LeaderLink::replication_info() { return run({"INFO", "replication"}, Use::probe); }

LeaderCall LeaderLink::run(const std::vector<std::string>& command, Use use) {
    const bool is_write = use == Use::write;
    LeaderCall call;
    call.state = state();
    if (!call.state.known()) {
        call.failure = LeaderFailure::no_leader;
        call.message = "no Redis-leader is known yet: waiting for the load balancer's announcement";
        return call;
    }
    // Only for the messages of the two lease failures: not built on every request.
    const auto leader = [&] {
        return "leader " + std::to_string(call.state.leader) + " at term " + std::to_string(call.state.term);
    };
    if (use != Use::probe && !lease_.holds(call.state, LeaseClock::now())) {
        call.failure = LeaderFailure::no_lease;
        call.message = "the load balancer has not confirmed " + leader() + " lately (no lease): nothing was sent";
        return call;
    }
    PoolError error;
    auto connection = pool_.acquire(error);
    if (!connection) {
        call.failure = error.kind == PoolError::Kind::exhausted ? LeaderFailure::busy : LeaderFailure::leader_unreachable;
        call.message = error.message;
        record(call);
        return call;
    }
    call.reply = (*connection)->command(command);
    if (call.reply.io_error()) {
        call.failure = LeaderFailure::leader_unreachable;
        call.message = call.reply.error_message();
        call.outcome_unknown = is_write && call.reply.maybe_run();
    } else if (is_not_master_error(call.reply)) {
        call.failure = LeaderFailure::leader_not_master;
        call.message = "Redis at " + (*connection)->endpoint().to_string() + " is not a usable leader: " +
                       call.reply.text().value_or("");
    } else if (is_write && !call.reply.is_error_reply()) {
        call.replication = replicate(**connection, call.state);
    }
    // Checked when the answer is in, not only before sending: the command may have waited in a
    // paused Redis (or this process may have been paused) past the lease, and a new leader may
    // have been elected meanwhile. A read from then may be stale; a write may be lost.
    const bool refused_write = is_write && call.reply.is_error_reply();  // not applied, whenever it came
    if (use != Use::probe && call.failure == LeaderFailure::none && !refused_write &&
        !lease_.holds(call.state, LeaseClock::now())) {
        call.failure = LeaderFailure::lease_expired;
        call.outcome_unknown = is_write;
        call.message = "the leader's Redis answered after the lease on " + leader() + " had ended" +
                       (is_write ? "" : ": the answer may be stale and was dropped");
    }
    record(call);
    return call;
}

std::string LeaderLink::replicate(RedisConnection& connection, const AnnouncedLeader& state) {
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
