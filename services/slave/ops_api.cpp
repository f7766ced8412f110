#include "ops_api.h"

#include "cdb/http_server.h"
#include "cdb/json_builder.h"
#include "cdb/protocol.h"

namespace cdb::slave {

OpsApi::OpsApi(const DeploymentConfig& config, LeaderLink& leader, Drain& drain, Metrics& metrics)
    : index_(config.cluster.index.value_or(0)),
      mode_(config.replication.mode),
      leader_(leader),
      metrics_(metrics),
      drain_(drain) {
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

HttpResponse OpsApi::ready() {
    if (drain_.stopping()) return error_response(503, "not ready: stopping");
    LeaderCall call = leader_.ping();
    if (call.failure != LeaderFailure::none) return error_response(503, "not ready: " + call.message);
    return json_response(200, JsonBuilder().field("status", "ready").field("term", call.state.term)
                                  .field("leader", call.state.leader).str());
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
