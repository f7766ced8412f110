#include "lb_api.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>

#include "cdb/control_key.h"
#include "cdb/http_server.h"
#include "cdb/json_builder.h"
#include "cdb/json_input.h"
#include "cdb/protocol.h"
#include "ui_assets.h"

namespace cdb::lb {

namespace {

const char* role_name(const coordination::RedisInfo& redis) {
    return redis.role == coordination::RedisRole::master ? "master" : "replica";
}

std::string election_json(const coordination::ElectionRecord& record, coordination::Millis now) {
    return JsonBuilder()
        .field("term", record.state.term)
        .field("leader", record.state.leader)
        .field("reason", coordination::to_string(record.reason))
        .field("duration_ms", record.ended_at - record.started_at)
        .field("ago_ms", now - record.ended_at)
        .str();
}

}  // namespace

LbApi::LbApi(CoordinatorLoop& loop, const ClusterAddresses& addresses, ReplicationMode mode, Metrics& metrics,
             std::string admin_token, const ControlKey& key)
    : loop_(loop),
      addresses_(addresses),
      mode_(mode),
      metrics_(metrics),
      admin_token_(std::move(admin_token)),
      key_(key) {
    metrics_.describe("admin_rejected_total", "counter", "Admin requests refused for a missing or wrong token.");
}

void LbApi::add_routes(RouteTable& routes) {
    // Healthy while the LB serves, whatever the clusters do: an orchestrator must not restart the
    // coordinator because a cluster is down.
    routes.exact("GET", "/lb/healthz", [](const HttpRequest&, std::string_view) {
              return json_response(200, R"({"status":"alive"})");
          })
        .exact("GET", "/lb/status", [this](const HttpRequest&, std::string_view) {
            return json_response(200, status_body());
        })
        .exact("GET", "/lb/metrics", [this](const HttpRequest&, std::string_view) { return metrics_response(metrics_); })
        .exact("PUT", "/lb/size", [this](const HttpRequest& request, std::string_view) {
            if (auto refusal = refuse_unauthorized(request)) return std::move(*refusal);
            return resize(request);
        })
        .exact("PUT", protocol::leave_path, [this](const HttpRequest& request, std::string_view) { return leave(request); });
    // The topology page reads only what /lb/status and /lb/metrics show, so it has their access policy.
    for (const UiAsset& asset : ui_assets()) {
        routes.exact("GET", asset.path, [&asset](const HttpRequest&, std::string_view) {
            HttpResponse response = json_response(200, std::string(asset.body));
            response.content_type = std::string(asset.content_type) + "; charset=utf-8";
            // Its own files and its own LB only: no inline script, no frame around it, no sniffing.
            response.with_header("Content-Security-Policy",
                                 "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
                .with_header("X-Content-Type-Options", "nosniff")
                .with_header("Cache-Control", "no-cache");
            return response;
        });
    }
}

// docs/API.md, "GET /lb/status": the coordinator's snapshot as the operator and the topology page read it.
std::string LbApi::status_body() const {
    const auto snapshot = loop_.snapshot();
    const coordination::Status& status = snapshot->status;
    std::vector<std::string> clusters;
    std::vector<int> draining;
    std::vector<int> leaving;
    for (const auto& [index, cluster] : status.clusters) {
        const bool departed = std::count(status.departed.begin(), status.departed.end(), index) > 0;
        if (cluster.leaving) {
            leaving.push_back(index);  // stopped on its own: no scale-down to wait for
        } else if (cluster.draining && !departed) {
            draining.push_back(index);  // still moving off: not drained yet
        }
        JsonBuilder entry;
        entry.field("index", index)
            .field("slave", addresses_.slave(index).to_string())
            .field("redis", addresses_.redis(index).to_string())
            .field("admitted", cluster.admitted)
            .field("draining", cluster.draining)
            .field("leaving", cluster.leaving)
            .field("slave_answering", cluster.slave.has_value())
            .field("slave_failures", cluster.slave_failures);
        if (cluster.slave) entry.field("slave_term", cluster.slave->term).field("slave_leader", cluster.slave->leader);
        entry.field("redis_reachable", cluster.redis.has_value());
        if (cluster.redis) {
            entry.field("redis_role", role_name(*cluster.redis)).field("redis_offset", cluster.redis->offset);
            if (cluster.redis->role == coordination::RedisRole::replica) entry.field("redis_master", cluster.redis->master);
        }
        clusters.push_back(entry.str());
    }

    const coordination::Millis now = snapshot->taken_at;
    JsonBuilder body;
    body.field("term", status.state.term)
        .field("leader", status.state.leader)
        .field("recovering", status.recovering)
        .field("replication_mode", to_string(mode_))
        .field("followers", status.followers)
        .field("degraded", mode_ == ReplicationMode::sync && status.state.term > 0 && status.followers == 0)
        .field("leader_failures", status.leader_failures)
        .field("elections", status.elections)
        .field("desired_size", status.desired_size)
        .field("ready", status.ready)
        .field("draining", draining)
        .field("drained", status.departed)
        .field("leaving", leaving);
    if (status.last_election) {
        body.raw_field("last_election", election_json(*status.last_election, now));
    } else {
        body.null_field("last_election");
    }
    std::vector<std::string> recent;
    for (const auto& record : status.recent_elections) recent.push_back(election_json(record, now));
    body.raw_array("recent_elections", recent);
    if (status.pending) {
        body.raw_field("pending_election", JsonBuilder()
                                               .field("reason", coordination::to_string(status.pending->reason))
                                               .field("waiting_ms", now - status.pending->since)
                                               .str());
    } else {
        body.null_field("pending_election");
    }
    body.raw_array("clusters", clusters);
    return body.str();
}

std::optional<HttpResponse> LbApi::refuse_unauthorized(const HttpRequest& request) {
    constexpr std::string_view scheme = "Bearer ";
    const auto credentials = request.header("Authorization");
    if (!credentials || credentials->compare(0, scheme.size(), scheme) != 0) {
        metrics_.add("admin_rejected_total", label("reason", "missing"));
        return error_response(401, "this route changes the deployment: send Authorization: Bearer <ADMIN_TOKEN> "
                                   "(the launchers do; docs/SECURITY.md)")
            .with_header("WWW-Authenticate", R"(Bearer realm="consult-db admin")");
    }
    if (!same_secret(admin_token_, std::string_view(*credentials).substr(scheme.size()))) {
        metrics_.add("admin_rejected_total", label("reason", "wrong"));
        return error_response(403, "the admin token is wrong; nothing was changed");
    }
    return std::nullopt;
}

HttpResponse LbApi::resize(const HttpRequest& request) {
    rapidjson::Document body;
    const bool valid = !parse_json_input(body, request.body) && body.IsObject() && body.HasMember("size") &&
                       body["size"].IsInt() && body["size"].GetInt() >= 1 &&
                       body["size"].GetInt() <= protocol::max_clusters;
    if (!valid) {
        return error_response(400, R"(body must be {"size": int 1..)" + std::to_string(protocol::max_clusters) + "}");
    }
    const int size = body["size"].GetInt();
    loop_.request_size(size);
    return json_response(202, JsonBuilder().field("size", size).str());
}

// Anyone who reaches the LB reaches this route, so only a proven, fresh request changes anything
// (docs/PROTOCOL.md §10); every other is refused and counted, and changes nothing.
HttpResponse LbApi::leave(const HttpRequest& request) {
    const auto verdict = protocol::decode_leave_request(key_, request.body);
    if (!verdict.request) {
        metrics_.add("control_rejected_total", label("message", "cluster_leave"));
        return error_response(verdict.unproven ? 403 : 400, verdict.problem);
    }
    const protocol::LeaveRequest& leave = *verdict.request;
    const auto wall_now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    switch (leave_guard_.admit(leave, wall_now)) {
        case LeaveGuard::Verdict::replayed:
            metrics_.add("control_rejected_total", label("message", "cluster_leave"));
            return error_response(409, "sent_at_ms is not later than the last leave request accepted for this "
                                       "cluster: a replay; nothing was changed");
        case LeaveGuard::Verdict::out_of_window:
            metrics_.add("control_rejected_total", label("message", "cluster_leave"));
            return error_response(409, "sent_at_ms is more than " + std::to_string(protocol::leave_window_ms) +
                                           " ms from the LB's clock: a replay, or clocks apart; nothing was changed");
        case LeaveGuard::Verdict::fresh: break;
    }
    loop_.request_leave(leave.index);
    // Handed over once the coordinator has taken the cluster out (a snapshot of the request that
    // only now reached the loop cannot say so yet: the slave asks again) and no longer has it lead.
    const auto snapshot = loop_.snapshot();
    const auto& status = snapshot->status;
    const auto cluster = status.clusters.find(leave.index);
    const bool handed_over = cluster == status.clusters.end()
                                 ? !status.recovering
                                 : cluster->second.leaving && !status.recovering && status.state.leader != leave.index;
    return json_response(handed_over ? protocol::leave_handed_over_status : protocol::leave_under_way_status,
                         JsonBuilder().field("index", leave.index).field("handed_over", handed_over).str());
}

}  // namespace cdb::lb
