#pragma once
#include <netinet/in.h>

#include <chrono>
#include <optional>
#include <string>

namespace cdb {
// `slave --probe /healthz`: the container health check (images carry no curl). GETs
// http://127.0.0.1:<port><path> over a plain socket, connecting, sending and reading the status line
// within 1 s in all; returns the process exit status: 0 on 2xx, 1 on anything else, a timeout or an
// answer that does not start with an HTTP/1.x status line.
int run_probe(int port, const std::string& path);

// The same exchange for a control message: PUT `body` (JSON) to `path` at `address`, connecting,
// sending and reading the status line within `bound` in all. The answer's status code, or nullopt
// with the reason in `problem`. The body of the answer is not read: these messages say it all in
// the status code (docs/PROTOCOL.md §10).
std::optional<int> put_json(const sockaddr_in& address, const std::string& path, const std::string& body,
                            std::chrono::milliseconds bound, std::string& problem);
}  // namespace cdb
