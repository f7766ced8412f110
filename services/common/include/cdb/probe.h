#pragma once
#include <string>

namespace cdb {
// `slave --probe /healthz`: the container health check (images carry no curl). GETs
// http://127.0.0.1:<port><path> with a 1 s bound; returns the process exit status (0 on 2xx).
int run_probe(int port, const std::string& path);
}  // namespace cdb
