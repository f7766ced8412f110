#pragma once
// What HttpServer does with a request once its transport (http_transport.h) has read all of it:
// turns Pistache's request into an HttpRequest, dispatches it to the RouteTable, and lays the answer
// out as bytes, with the keep-alive rule of HTTP/1.1 that Pistache 0.0.5 gets wrong.
#include <pistache/http.h>

#include <functional>
#include <memory>
#include <string>

#include "cdb/route_table.h"

namespace cdb {

// Takes an answer's bytes to the client, and whether the connection closes once they are written.
using AnswerDelivery = std::function<void(std::string bytes, bool close)>;

class RequestPipeline {
public:
    explicit RequestPipeline(std::shared_ptr<const RouteTable> routes);

    // Dispatches `request`; its answer goes to `deliver` exactly once, from whichever thread answers
    // (the LB answers once a slave has: cdb/server_thread.h). A handler that throws is answered 500.
    void handle(const Pistache::Http::Request& request, AnswerDelivery deliver) const;

private:
    std::shared_ptr<const RouteTable> routes_;
};

// The answer to a request that cannot be read, or not in time; the connection closes after it.
std::string refusal_bytes(int status, const std::string& message, Pistache::Http::Version version);

// "METHOD /path" as valid UTF-8, for logs.
std::string describe(const Pistache::Http::Request& request);

}  // namespace cdb
