#include "cdb/route_table.h"

#include "cdb/json_builder.h"

namespace cdb {

std::optional<std::string> HttpRequest::header(const std::string& lower_case_name) const {
    auto it = headers.find(lower_case_name);
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

RouteTable& RouteTable::exact(std::string method, std::string path, RouteHandler handler) {
    routes_.push_back({std::move(method), std::move(path), false, std::move(handler)});
    return *this;
}

RouteTable& RouteTable::prefix(std::string method, std::string path_prefix, RouteHandler handler) {
    routes_.push_back({std::move(method), std::move(path_prefix), true, std::move(handler)});
    return *this;
}

bool RouteTable::matches(const Route& route, const std::string& path) const {
    return route.is_prefix ? path.rfind(route.path, 0) == 0 : path == route.path;
}

HttpResponse RouteTable::dispatch(const HttpRequest& request) const {
    if (request.malformed) return error_response(400, *request.malformed);
    std::string allowed;
    for (const Route& route : routes_) {
        if (!matches(route, request.path)) continue;
        if (route.method == request.method) {
            const std::string_view tail =
                route.is_prefix ? std::string_view(request.path).substr(route.path.size()) : std::string_view();
            return route.handler(request, tail);
        }
        if (allowed.find(route.method) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + route.method;
    }
    if (!allowed.empty()) {
        return error_response(405, "method " + request.method + " is not allowed on this route; use " + allowed)
            .with_header("Allow", allowed);
    }
    return error_response(404, "no such route: " + request.method + " " + request.path);
}

}  // namespace cdb
