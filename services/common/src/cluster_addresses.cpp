#include "cdb/cluster_addresses.h"

namespace cdb {

ClusterAddresses::ClusterAddresses(const DeploymentConfig& config)
    : host_template_(config.cluster.host_template),
      slave_port_(config.slave.port),
      redis_port_(config.redis.port),
      port_step_(config.cluster.port_step) {}

std::string ClusterAddresses::host(int index) const {
    std::string host = host_template_;
    const std::string marker = "{i}";
    for (auto at = host.find(marker); at != std::string::npos; at = host.find(marker, at)) {
        host.replace(at, marker.size(), std::to_string(index));
    }
    return host;
}

Endpoint ClusterAddresses::slave(int index) const { return {host(index), slave_port_ + index * port_step_}; }

Endpoint ClusterAddresses::redis(int index) const { return {host(index), redis_port_ + index * port_step_}; }

}  // namespace cdb
