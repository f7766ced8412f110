// libFuzzer target: a request as the slave's routes receive it (method, path, query, headers,
// body) through list-keys, get, set, delete and PUT /internal/leader. Input: the method, the path
// with its query, then header lines, an empty line and the body, separated by '\n'. Every Redis
// of the deployment is at 127.0.0.1 port 1 or 2, where nothing listens: a request that reaches the
// leader fails at once, as against a dead one.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "cache_api.h"
#include "cdb/cluster_addresses.h"
#include "cdb/text_rules.h"
#include "leader_link.h"
#include "ops_api.h"

namespace {

const cdb::DeploymentConfig& deployment() {
    static const cdb::DeploymentConfig config = [] {
        spdlog::set_level(spdlog::level::off);
        const std::map<std::string, std::string> env{
            {"CLUSTER_HOST_TEMPLATE", "127.0.0.1"}, {"CLUSTER_SIZE", "2"},       {"CLUSTER_INDEX", "0"},
            {"CLUSTER_PORT_STEP", "1"},             {"REDIS_PORT", "1"},         {"SLAVE_PORT", "3"},
            {"LIMITS_MAX_KEY_BYTES", "64"},         {"LIMITS_MAX_VALUE_BYTES", "256"},
            {"REDIS_DATA_PASSWORD", "fuzz-data-password-01"},
            {"CONTROL_PLANE_KEY", "fuzz-control-plane-key-0000000000001"}};
        return cdb::parse_config(
            "",
            [env](const std::string& name) {
                auto it = env.find(name);
                return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
            },
            cdb::ConfigUser::slave, "fuzz");
    }();
    return config;
}

cdb::HttpRequest request_from(const std::string& input) {
    std::istringstream lines(input);
    cdb::HttpRequest request;
    std::string target;
    std::getline(lines, request.method);
    std::getline(lines, target);
    const auto question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos) request.raw_query = target.substr(question + 1);
    std::istringstream parameters(request.raw_query);
    for (std::string parameter; std::getline(parameters, parameter, '&');) {
        const auto equals = parameter.find('=');
        auto name = cdb::query_decode(parameter.substr(0, equals));
        auto value = cdb::query_decode(equals == std::string::npos ? "" : parameter.substr(equals + 1));
        if (name && value) request.query[*name] = *value;
        else request.malformed = "bad query";
    }
    for (std::string header; std::getline(lines, header) && !header.empty();) {
        const auto colon = header.find(':');
        if (colon != std::string::npos) request.headers[header.substr(0, colon)] = header.substr(colon + 1);
    }
    std::ostringstream body;
    body << lines.rdbuf();
    request.body = body.str();
    return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto& config = deployment();
    // A fresh slave per input, so that an announcement in one input does not change the next one.
    const cdb::ClusterAddresses addresses(config);
    cdb::Metrics metrics("slave");
    cdb::slave::LeaderLink leader(config, addresses);
    cdb::slave::Drain drain;
    cdb::slave::CacheApi cache(config.limits, leader, drain, metrics);
    cdb::slave::OpsApi ops(config, addresses, leader, drain, metrics);
    cdb::RouteTable routes;
    cache.add_routes(routes);
    ops.add_routes(routes);
    // The slave's routes all answer before dispatch returns.
    int status = 0;
    routes.dispatch(request_from(std::string(reinterpret_cast<const char*>(data), size)),
                    [&](cdb::HttpResponse response) { status = response.status; });
    if (status < 200 || status > 599) std::abort();
    return 0;
}
