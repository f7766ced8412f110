#include "lb_api.h"

#include <rapidjson/document.h>

#include "cdb/control_key.h"
#include "cdb/http_server.h"
#include "cdb/json_builder.h"
#include "cdb/json_input.h"
#include "cdb/protocol.h"
#include "ui_assets.h"

namespace cdb::lb {

LbApi::LbApi(CoordinatorLoop& loop, Metrics& metrics, std::string admin_token)
    : loop_(loop), metrics_(metrics), admin_token_(std::move(admin_token)) {
    metrics_.describe("admin_rejected_total", "counter", "Admin requests refused for a missing or wrong token.");
}

void LbApi::add_routes(RouteTable& routes) {
    // Healthy while the LB serves, whatever the clusters do: an orchestrator must not restart the
    // coordinator because a cluster is down.
    routes.exact("GET", "/lb/healthz", [](const HttpRequest&, std::string_view) {
              return json_response(200, R"({"status":"alive"})");
          })
        .exact("GET", "/lb/status", [this](const HttpRequest&, std::string_view) {
            return json_response(200, loop_.status_json());
        })
        .exact("GET", "/lb/metrics", [this](const HttpRequest&, std::string_view) { return metrics_response(metrics_); })
        .exact("PUT", "/lb/size", [this](const HttpRequest& request, std::string_view) {
            if (auto refusal = refuse_unauthorized(request)) return std::move(*refusal);
            return resize(request);
        });
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

}  // namespace cdb::lb
