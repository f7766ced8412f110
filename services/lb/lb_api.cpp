#include "lb_api.h"

#include <rapidjson/document.h>

#include "cdb/http_server.h"
#include "cdb/json_builder.h"
#include "cdb/json_input.h"

namespace cdb::lb {

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
        .exact("PUT", "/lb/size", [this](const HttpRequest& request, std::string_view) { return resize(request); });
}

HttpResponse LbApi::resize(const HttpRequest& request) {
    rapidjson::Document body;
    const bool valid = !parse_json_input(body, request.body) && body.IsObject() && body.HasMember("size") && body["size"].IsInt() &&
                       body["size"].GetInt() >= 1 && body["size"].GetInt() <= 256;
    if (!valid) return error_response(400, R"(body must be {"size": int 1..256})");
    const int size = body["size"].GetInt();
    loop_.request_size(size);
    return json_response(202, JsonBuilder().field("size", size).str());
}

}  // namespace cdb::lb
