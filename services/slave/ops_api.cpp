#include "ops_api.h"

#include "cdb/http_server.h"
#include "cdb/json_builder.h"
#include "cdb/protocol.h"

namespace cdb::slave {

OpsApi::OpsApi(const DeploymentConfig& config, const ClusterAddresses& addresses, LeaderLink& leader,
               Drain& drain, Metrics& metrics)
    : index_(config.cluster.index.value_or(0)),
      mode_(config.replication.mode),
      leader_(leader),
      metrics_(metrics),
      drain_(drain),
      own_redis_(1,
                 RedisTimeouts{std::chrono::milliseconds(config.redis.connect_timeout_ms),
                               std::chrono::milliseconds(config.redis.command_timeout_ms)},
                 RedisCredentials{redis_data_user, config.redis.data_password},
                 std::chrono::milliseconds(config.redis.command_timeout_ms)),
      addresses_(addresses) {
    own_redis_.retarget(addresses.redis(index_));
    metrics_.sampled("term", "gauge", "Leader term this slave follows (0: none yet).",
                   [this] { return static_cast<double>(leader_.state().term); });
    metrics_.sampled("leader", "gauge", "Cluster index of the Redis-leader (-1: none yet).",
                   [this] { return static_cast<double>(leader_.state().leader); });
    metrics_.sampled("leader_failures_total", "counter", "Failed operations against the leader's Redis.",
                   [this] { return static_cast<double>(leader_.failures_total()); });
    metrics_.describe("control_rejected_total", "counter",
                      "Control messages refused for lack of the LB's proof; they changed nothing.");
}

void OpsApi::add_routes(RouteTable& routes) {
    routes.exact("GET", "/healthz", [](const HttpRequest&, std::string_view) {
              return json_response(200, R"({"status":"alive"})");
          })
        .exact("GET", "/readyz", [this](const HttpRequest&, std::string_view) { return ready(); })
        .exact("GET", protocol::status_path, [this](const HttpRequest& request, std::string_view) { return status(request); })
        .exact("GET", "/metrics", [this](const HttpRequest&, std::string_view) { return metrics_response(metrics_); })
        .exact("PUT", protocol::announce_path,
               [this](const HttpRequest& request, std::string_view) { return announce(request); });
}

namespace {

// Long enough that a storm of probes (kubelet, Compose, an operator's loop) costs this cluster's
// Redis and the leader's one INFO each per period; short against every probe period.
constexpr std::chrono::milliseconds readiness_cache_ttl{250};

}  // namespace

HttpResponse OpsApi::ready() {
    if (drain_.stopping()) return error_response(503, "not ready: stopping");
    const AnnouncedLeader state = leader_.state();
    // A verdict stands only for the leader it was judged under.
    const auto same_leader = [&](const LastReadiness& last) {
        return last.term == state.term && last.leader == state.leader;
    };
    std::optional<Readiness> verdict;
    {
        std::lock_guard<std::mutex> lock(last_mutex_);
        if (last_readiness_ && same_leader(*last_readiness_) &&
            std::chrono::steady_clock::now() - last_readiness_->judged < readiness_cache_ttl) {
            verdict = last_readiness_->verdict;
        }
    }
    if (!verdict) {
        // One probe judges at a time: the others take the last verdict instead of holding a worker
        // thread each for up to two Redis timeouts.
        std::unique_lock<std::mutex> judging(judging_, std::try_to_lock);
        if (judging.owns_lock()) {
            verdict = readiness(state);
            std::lock_guard<std::mutex> lock(last_mutex_);
            last_readiness_ = LastReadiness{state.term, state.leader, std::chrono::steady_clock::now(), *verdict};
        } else {
            std::lock_guard<std::mutex> lock(last_mutex_);
            if (last_readiness_ && same_leader(*last_readiness_)) verdict = last_readiness_->verdict;
        }
    }
    if (!verdict) return error_response(503, "not ready: readiness is being checked");
    if (!verdict->ready) return error_response(503, "not ready: " + verdict->reason);
    JsonBuilder body;
    body.field("status", "ready").field("term", state.term).field("leader", state.leader).field("detail", verdict->reason);
    if (verdict->lag_bytes) body.field("lag_bytes", *verdict->lag_bytes);
    return json_response(200, body.str());
}

Readiness OpsApi::readiness(const AnnouncedLeader& state) {
    ReadinessFacts facts;
    facts.own_index = index_;
    facts.state = state;
    if (!facts.state.known()) return judge_readiness(facts);
    facts.leader_redis = addresses_.redis(facts.state.leader);
    // This cluster's Redis first, the leader's after: the leader's offset can only have grown in
    // between, so the lag is never under-estimated. The leader's is read through the data pool
    // even when it is this cluster's: Ready also says that the data path logs in and answers.
    facts.own = own_replication(facts.own_problem);
    if (facts.own) {
        LeaderCall call = leader_.replication_info();
        if (call.failure == LeaderFailure::none) facts.leader = parse_replication_info(call.reply.text().value_or(""));
        if (!facts.leader) facts.leader_problem = call.failure == LeaderFailure::none ? "bad INFO reply" : call.message;
    }
    return judge_readiness(facts);
}

std::optional<ReplicationInfo> OpsApi::own_replication(std::string& problem) {
    PoolError error;
    auto lease = own_redis_.acquire(error);
    if (!lease) {
        problem = error.message;
        return std::nullopt;
    }
    RedisReply reply = (*lease)->command({"INFO", "replication"});
    auto info = parse_replication_info(reply.text().value_or(""));
    if (!info) problem = reply.io_error() ? reply.error_message() : "bad INFO reply";
    return info;
}

HttpResponse OpsApi::status(const HttpRequest& request) {
    if (drain_.stopping()) return drain_.tell_lb();
    if (!leader_.accept_lease_grant(request)) metrics_.add("control_rejected_total", label("message", "lease_grant"));
    const AnnouncedLeader state = leader_.state();
    const auto leader_redis = leader_.leader_redis();
    JsonBuilder body;
    body.field("index", index_);
    protocol::add_reported_leader(body, leader_.control_key(), state);
    if (leader_redis) body.field("leader_redis", leader_redis->to_string());
    else body.null_field("leader_redis");
    return json_response(200, body.field("ready", state.known())
                                  .field("replication_mode", to_string(mode_))
                                  .field("followers", state.followers)
                                  .field("leader_failures_total", static_cast<std::int64_t>(leader_.failures_total()))
                                  .field("leader_failures_consecutive",
                                         static_cast<std::int64_t>(leader_.failures_consecutive()))
                                  .field("lease_remaining_ms",
                                         static_cast<std::int64_t>(
                                             leader_.lease().remaining(state, LeaseClock::now()).count()))
                                  // Last, just before the answer leaves: the lease the LB grants on it
                                  // runs from no later than the LB's receipt.
                                  .field(protocol::lease_nonce_field,
                                         static_cast<std::int64_t>(leader_.lease().issue_nonce(LeaseClock::now())))
                                  .str());
}

HttpResponse OpsApi::announce(const HttpRequest& request) {
    const auto verdict = protocol::decode_announcement(leader_.control_key(), request.body);
    if (!verdict.announcement) {
        if (!verdict.unproven) return error_response(400, verdict.problem);
        metrics_.add("control_rejected_total", label("message", "announcement"));
        return error_response(403, "refused, nothing was changed: " + verdict.problem);
    }
    const LeaderUpdate update = leader_.propose(*verdict.announcement);
    const bool accepted = update == LeaderUpdate::adopted || update == LeaderUpdate::confirmed;
    // After the new term: the grant is for it.
    if (accepted && !leader_.accept_lease_grant(request)) {
        metrics_.add("control_rejected_total", label("message", "lease_grant"));
    }
    JsonBuilder reply;
    reply.field("accepted", accepted);
    if (!accepted) reply.field("error", std::string("announcement refused: ") + to_string(update));
    return json_response(accepted ? 200 : 409,
                         protocol::add_reported_leader(reply, leader_.control_key(), leader_.state()).str());
}

}  // namespace cdb::slave
