#pragma once
// Names are the membership: cluster i's addresses come from the host template and per-index ports.
#include <string>

#include "cdb/config.h"

namespace cdb {

struct Endpoint {
    std::string host;
    int port = 0;
    std::string to_string() const { return host + ":" + std::to_string(port); }
    bool operator==(const Endpoint& other) const { return host == other.host && port == other.port; }
    bool operator!=(const Endpoint& other) const { return !(*this == other); }
};

class ClusterAddresses {
public:
    explicit ClusterAddresses(const DeploymentConfig& config);
    std::string host(int index) const;
    Endpoint slave(int index) const;
    Endpoint redis(int index) const;

private:
    std::string host_template_;
    int slave_port_;
    int redis_port_;
    int port_step_;
};

}  // namespace cdb
