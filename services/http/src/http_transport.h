#pragma once
// Pistache's side of HttpServer: reads its connections, screens each request head before Pistache
// parses it (cdb/request_framing.h), answers in request order, times requests out, holds back
// clients that do not read their answers, and lets services watch their own sockets on its threads
// (cdb/server_thread.h). What a complete request means is the RequestPipeline's.
#include <pistache/listener.h>

#include <chrono>
#include <cstddef>
#include <memory>

#include "acceptor.h"
#include "cdb/http_server.h"
#include "request_pipeline.h"

namespace cdb {

struct ConnectionRules {
    std::size_t max_head_bytes;
    std::size_t max_request_bytes;
    std::chrono::milliseconds header_timeout;
    std::chrono::milliseconds body_timeout;
};

// Makes `listener` (initialised, not yet bound) serve its connections under `rules`, with one
// transport per server thread, handing complete requests to `pipeline`. `acceptor` admits them once
// started on the bound listener.
void serve_connections(Pistache::Tcp::Listener& listener, RequestPipeline pipeline, const ConnectionRules& rules,
                       std::shared_ptr<Acceptor> acceptor);

// The connections the descriptor limit leaves room for, at most `options.max_connections`. The soft
// limit is raised to the hard one first, as nginx's worker_rlimit_nofile and Go's runtime do.
std::size_t connection_limit(const HttpServerOptions& options);

}  // namespace cdb
