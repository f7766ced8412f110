// consult-db-slave: the data API of one cluster, served from the Redis-leader's data.
#include <spdlog/spdlog.h>

#include <memory>

#include "cache_api.h"
#include "cdb/cluster_addresses.h"
#include "cdb/http_server.h"
#include "cdb/metrics.h"
#include "cdb/service_main.h"
#include "drain.h"
#include "handover.h"
#include "leader_link.h"
#include "ops_api.h"

namespace {

int own_port(const cdb::DeploymentConfig& config) {
    return cdb::ClusterAddresses(config).slave(config.cluster.index.value_or(0)).port;
}

struct SlaveService {
    explicit SlaveService(const cdb::DeploymentConfig& config)
        : addresses(config),
          metrics("slave"),
          leader(config, addresses),
          cache(config.limits, leader, drain, metrics),
          ops(config, addresses, leader, drain, metrics),
          handover(config, leader.control_key()) {
        cdb::RouteTable routes;
        cache.add_routes(routes);
        ops.add_routes(routes);
        handover.add_routes(routes);
        const auto options = cdb::server_options(config, config.slave, own_port(config), "slave-http");
        server = std::make_unique<cdb::HttpServer>(options, std::move(routes));
    }

    cdb::ClusterAddresses addresses;
    cdb::Metrics metrics;
    cdb::slave::LeaderLink leader;
    cdb::slave::Drain drain;
    cdb::slave::CacheApi cache;
    cdb::slave::OpsApi ops;
    cdb::slave::Handover handover;
    std::unique_ptr<cdb::HttpServer> server;
};

}  // namespace

int main(int argc, char** argv) {
    cdb::ServiceSpec spec;
    spec.name = "slave";
    spec.user = cdb::ConfigUser::slave;
    spec.usage = "Serves GET /list-keys, GET /get/{key}, POST /set, DELETE /delete/{key} from the Redis-leader,\n"
                 "plus /healthz, /readyz, /status, /metrics and PUT /internal/leader (docs/PROTOCOL.md).";
    spec.own_port = own_port;
    spec.start = [](const cdb::DeploymentConfig& config) -> std::function<void()> {
        auto service = std::make_shared<SlaveService>(config);
        service->server->start();
        return [service] {
            // Stopping answers first: from here on every probe finds this slave stopping, which is how
            // the LB tells a request to leave made now from a restarted slave later (docs/PROTOCOL.md §10).
            service->drain.begin();
            // The leadership moves off this cluster while its Redis still runs (the Redis container's
            // preStop, or cluster-run, waits for this slave).
            const auto handover_began = std::chrono::steady_clock::now();
            service->handover.run();
            const auto handover_took = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - handover_began);
            // The LB's next probe (one interval) ejects this slave; 200 ms without a request then
            // covers what it had already routed here. At most 1 s more than the hand-over took.
            if (!service->drain.wait(std::chrono::milliseconds(200), handover_took + std::chrono::milliseconds(1000))) {
                spdlog::warn("stopping before the LB stopped sending requests here (1 s drain bound)");
            }
            service->server->stop();
        };
    };
    return cdb::run_service(spec, argc, argv);
}
