#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cdb/http_types.h"

namespace cdb {

// `tail` is what follows a prefix route's prefix (the still-encoded key of /get/{key}); empty for exact routes.
using RouteHandler = std::function<HttpResponse(const HttpRequest& request, std::string_view tail)>;
// Sends the response. Called exactly once, possibly after the handler returned; best on the server
// thread that took the request (from any other thread it is carried there first).
using Reply = std::function<void(HttpResponse response)>;
// A handler that answers later, so a server thread never waits on the network: the LB answers when a
// slave has, from a descriptor it watches on the same thread (cdb/server_thread.h).
using AsyncRouteHandler = std::function<void(const HttpRequest& request, Reply reply)>;

// Maps (method, path) to handlers; answers 404 for unknown paths and 405 with `Allow` for known paths
// with another method.
class RouteTable {
public:
    RouteTable& exact(std::string method, std::string path, RouteHandler handler);
    RouteTable& prefix(std::string method, std::string path_prefix, RouteHandler handler);
    RouteTable& exact_async(std::string method, std::string path, AsyncRouteHandler handler);
    RouteTable& prefix_async(std::string method, std::string path_prefix, AsyncRouteHandler handler);
    void dispatch(const HttpRequest& request, const Reply& reply) const;

private:
    struct Route {
        std::string method;
        std::string path;
        bool is_prefix;
        AsyncRouteHandler handler;
    };
    static AsyncRouteHandler answer_now(RouteHandler handler, std::size_t prefix_length);
    bool matches(const Route& route, const std::string& path) const;
    std::vector<Route> routes_;
};

}  // namespace cdb
