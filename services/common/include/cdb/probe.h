#pragma once
#include <string>

namespace cdb {
// `slave --probe /healthz`: the container health check (images carry no curl). GETs
// http://127.0.0.1:<port><path> over a plain socket, connecting, sending and reading the status line
// within 1 s in all; returns the process exit status: 0 on 2xx, 1 on anything else, a timeout or an
// answer that does not start with an HTTP/1.x status line.
int run_probe(int port, const std::string& path);
}  // namespace cdb
