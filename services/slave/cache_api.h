#pragma once
// The data API (docs/API.md): list-keys, get, set, delete against the leader's Redis.
#include "cdb/config.h"
#include "cdb/metrics.h"
#include "cdb/route_table.h"
#include "drain.h"
#include "leader_link.h"

namespace cdb::slave {

class CacheApi {
public:
    // Once `drain` has begun, data requests get its "stopping" answer.
    CacheApi(const LimitsConfig& limits, LeaderLink& leader, Drain& drain, Metrics& metrics);
    void add_routes(RouteTable& routes);

private:
    HttpResponse list_keys(const HttpRequest& request);
    HttpResponse get(std::string_view encoded_key);
    HttpResponse set(const HttpRequest& request);
    HttpResponse remove(std::string_view encoded_key);

    // Applies the LB's X-Leader-Term/X-Leader; a response when the request must not be served.
    std::optional<HttpResponse> follow_forwarded_term(const HttpRequest& request);
    // The key from a path tail, or the 400/413 that explains why it is not one.
    std::optional<std::string> decode_key(std::string_view encoded, HttpResponse& rejection) const;
    HttpResponse failure_response(const LeaderCall& call) const;
    HttpResponse refusal_response(const LeaderCall& call, const char* operation) const;
    HttpResponse served(HttpResponse response, const LeaderCall& call) const;
    RouteHandler guarded(const char* route, HttpResponse (CacheApi::*handler)(const HttpRequest&, std::string_view));

    HttpResponse list_keys_route(const HttpRequest& request, std::string_view) { return list_keys(request); }
    HttpResponse get_route(const HttpRequest&, std::string_view tail) { return get(tail); }
    HttpResponse set_route(const HttpRequest& request, std::string_view) { return set(request); }
    HttpResponse remove_route(const HttpRequest&, std::string_view tail) { return remove(tail); }

    const LimitsConfig limits_;
    LeaderLink& leader_;
    Drain& drain_;
    Metrics& metrics_;
};

}  // namespace cdb::slave
