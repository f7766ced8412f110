#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cdb/http_types.h"

namespace cdb {

// `tail` is what follows a prefix route's prefix (the still-encoded key of /get/{key}); empty for exact routes.
using RouteHandler = std::function<HttpResponse(const HttpRequest& request, std::string_view tail)>;

// Maps (method, path) to handlers; answers 404 for unknown paths and 405 with `Allow` for known paths
// with another method.
class RouteTable {
public:
    RouteTable& exact(std::string method, std::string path, RouteHandler handler);
    RouteTable& prefix(std::string method, std::string path_prefix, RouteHandler handler);
    HttpResponse dispatch(const HttpRequest& request) const;

private:
    struct Route {
        std::string method;
        std::string path;
        bool is_prefix;
        RouteHandler handler;
    };
    bool matches(const Route& route, const std::string& path) const;
    std::vector<Route> routes_;
};

}  // namespace cdb
