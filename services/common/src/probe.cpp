#include "cdb/probe.h"

#include <httplib.h>

#include <iostream>

namespace cdb {

int run_probe(int port, const std::string& path) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(std::chrono::seconds(1));
    client.set_read_timeout(std::chrono::seconds(1));
    client.set_write_timeout(std::chrono::seconds(1));
    auto result = client.Get(path.c_str());
    if (!result) {
        std::cerr << "probe " << path << ": " << httplib::to_string(result.error()) << '\n';
        return 1;
    }
    if (result->status < 200 || result->status >= 300) {
        std::cerr << "probe " << path << ": HTTP " << result->status << ' ' << result->body << '\n';
        return 1;
    }
    return 0;
}

}  // namespace cdb
