#pragma once
// What both mains share: the command line (--config, --probe, --help), configuration errors as
// exit status 2, and waiting for SIGTERM/SIGINT.
#include <functional>
#include <string>

#include "cdb/config.h"

namespace cdb {

struct ServiceSpec {
    std::string name;   // "slave" or "lb"
    ConfigUser user;
    std::string usage;  // extra --help text
    // The port `--probe` targets, from the loaded configuration.
    std::function<int(const DeploymentConfig&)> own_port;
    // Starts serving; returns a function that stops. Throws std::runtime_error on start failure.
    std::function<std::function<void()>(const DeploymentConfig&)> start;
};

int run_service(const ServiceSpec& spec, int argc, char** argv);

}  // namespace cdb
