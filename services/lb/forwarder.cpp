#include "forwarder.h"

#include <httplib.h>

#include <chrono>

#include "cdb/json_builder.h"
#include "slave_state.h"

namespace cdb::lb {
namespace {

// Headers a slave's answer may carry that the client must see.
constexpr const char* passed_headers[] = {"X-Replication", "Retry-After", "Allow"};

HttpResponse unavailable(const std::string& message) {
    return error_response(503, message).with_header("Retry-After", "1");
}

}  // namespace

Forwarder::Forwarder(UpstreamPool& upstreams, const RoutingBoard& board, ReportQueue& reports, Metrics& metrics,
                     int max_attempts)
    : max_attempts_(max_attempts), upstreams_(upstreams), board_(board), reports_(reports), metrics_(metrics) {
    metrics_.describe("requests_total", "counter", "Client data requests by route and status.");
    metrics_.describe("upstream_attempts_total", "counter", "Attempts to reach a slave by outcome.");
    metrics_.histogram("upstream_latency_seconds", "Time a slave took to answer a forwarded request.",
                       {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
}

void Forwarder::add_routes(RouteTable& routes) {
    auto route = [this](const char* name) {
        return [this, name](const HttpRequest& request, std::string_view) {
            HttpResponse response = forward(request);
            metrics_.add("requests_total", label("route", name) + "," + label("status", std::to_string(response.status)));
            return response;
        };
    };
    routes.exact("GET", "/list-keys", route("list-keys"))
        .prefix("GET", "/get/", route("get"))
        .exact("POST", "/set", route("set"))
        .prefix("DELETE", "/delete/", route("delete"));
}

HttpResponse Forwarder::forward(const HttpRequest& request) {
    const auto view = board_.current();
    if (view->ready.empty() || view->state.term == 0) {
        return unavailable(view->state.term == 0 ? "no Redis-leader elected yet" : "no cluster is ready");
    }
    httplib::Request upstream;
    upstream.method = request.method;
    upstream.path = request.path + (request.raw_query.empty() ? "" : "?" + request.raw_query);
    upstream.body = request.body;
    if (auto type = request.header("content-type")) upstream.set_header("Content-Type", *type);
    upstream.set_header("X-Leader-Term", std::to_string(view->state.term));
    upstream.set_header("X-Leader", std::to_string(view->state.leader));
    const bool idempotent = request.method == "GET";

    const std::size_t first = next_++;
    const std::size_t attempts = std::min<std::size_t>(view->ready.size(), static_cast<std::size_t>(max_attempts_));
    std::string last_problem;
    for (std::size_t attempt = 0; attempt < attempts; ++attempt) {
        const int index = view->ready[(first + attempt) % view->ready.size()];
        auto lease = upstreams_.acquire(index);
        const auto started = std::chrono::steady_clock::now();
        httplib::Result result = lease->send(upstream);
        metrics_.observe("upstream_latency_seconds",
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        if (!result) {
            lease.discard();
            reports_.push(ForwardFailure{index});
            metrics_.add("upstream_attempts_total", label("outcome", "no_answer"));
            last_problem = "slave-" + std::to_string(index) + ": " + httplib::to_string(result.error());
            // No connection (refused, or timed out: a stopped container's address just vanishes) or
            // a request that could not be sent whole never reached the slave: safe to try elsewhere.
            const bool never_arrived = result.error() == httplib::Error::Connection ||
                                       result.error() == httplib::Error::ConnectionTimeout ||
                                       result.error() == httplib::Error::BindIPAddress ||
                                       result.error() == httplib::Error::Write;
            if (idempotent || never_arrived) continue;
            return error_response(502, "no answer from " + last_problem +
                                           "; the write may or may not have been applied, read the key to know");
        }
        if (result->has_header("X-Retry-Elsewhere")) {
            // The slave touched nothing: it is stopping, or it follows a newer term than ours (this LB
            // restarted). Any request, a write too, may go elsewhere. A stopping slave counts as a
            // failed forward, so it is ejected before it closes its sockets.
            auto newer = result->status == 409 ? parse_slave_state(result->body) : std::nullopt;
            if (newer) {
                reports_.push(SlaveStateReport{index, *newer});
            } else {
                reports_.push(ForwardFailure{index});
            }
            metrics_.add("upstream_attempts_total", label("outcome", newer ? "stale_term" : "stopping"));
            last_problem = "slave-" + std::to_string(index) + (newer ? " follows a newer leader term" : " is stopping");
            continue;
        }
        if (result->status == 503 && result->has_header("X-Leader-Failure")) {
            reports_.push(coordination::LeaderFailureReport{index, view->state.term});
        }
        metrics_.add("upstream_attempts_total", label("outcome", "answered"));
        HttpResponse response = json_response(result->status, result->body);
        if (result->has_header("Content-Type")) response.content_type = result->get_header_value("Content-Type");
        for (const char* name : passed_headers) {
            if (result->has_header(name)) response.with_header(name, result->get_header_value(name));
        }
        return response;
    }
    return unavailable("no slave could serve the request (" + last_problem + ")");
}

}  // namespace cdb::lb
