#include "cdb/route_table.h"

#include <algorithm>
#include <cctype>

#include "cdb/json_builder.h"

namespace cdb {

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
        return std::tolower(x) < std::tolower(y);
    });
}

std::optional<std::string> HttpRequest::header(std::string_view name) const {
    auto it = headers.find(name);
    if (it == headers.end()) return std::nullopt;
    return it->second;
}

std::optional<std::string> HttpRequest::query_param(const std::string& name) const {
    auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
}

std::optional<std::string> HttpResponse::header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
        if (key == name) return value;
    }
    return std::nullopt;
}

HttpResponse json_response(int status, std::string body) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

HttpResponse error_response(int status, const std::string& message) {
    return json_response(status, json_error(message));
}

HttpResponse outcome_unknown_response(const std::string& message) {
    return json_response(504, JsonBuilder().field("error", message).field("outcome", "unknown").str());
}

AsyncRouteHandler RouteTable::answer_now(RouteHandler handler, std::size_t prefix_length) {
    return [handler = std::move(handler), prefix_length](const HttpRequest& request, const Reply& reply) {
        reply(handler(request, std::string_view(request.path).substr(prefix_length)));
    };
}

RouteTable& RouteTable::exact(std::string method, std::string path, RouteHandler handler) {
    auto answer = answer_now(std::move(handler), path.size());
    return exact_async(std::move(method), std::move(path), std::move(answer));
}

RouteTable& RouteTable::prefix(std::string method, std::string path_prefix, RouteHandler handler) {
    auto answer = answer_now(std::move(handler), path_prefix.size());
    return prefix_async(std::move(method), std::move(path_prefix), std::move(answer));
}

RouteTable& RouteTable::exact_async(std::string method, std::string path, AsyncRouteHandler handler) {
    routes_.push_back({std::move(method), std::move(path), false, std::move(handler)});
    return *this;
}

RouteTable& RouteTable::prefix_async(std::string method, std::string path_prefix, AsyncRouteHandler handler) {
    routes_.push_back({std::move(method), std::move(path_prefix), true, std::move(handler)});
    return *this;
}

bool RouteTable::matches(const Route& route, const std::string& path) const {
    return route.is_prefix ? path.rfind(route.path, 0) == 0 : path == route.path;
}

void RouteTable::dispatch(const HttpRequest& request, const Reply& reply) const {
    if (request.malformed) return reply(error_response(400, *request.malformed));
    std::string allowed;
    for (const Route& route : routes_) {
        if (!matches(route, request.path)) continue;
        if (route.method == request.method) return route.handler(request, reply);
        if (allowed.find(route.method) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + route.method;
    }
    if (!allowed.empty()) {
        return reply(error_response(405, "method " + request.method + " is not allowed on this route; use " + allowed)
                         .with_header("Allow", allowed));
    }
    reply(error_response(404, "no such route: " + request.method + " " + request.path));
}

}  // namespace cdb
