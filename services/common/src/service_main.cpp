#include "cdb/service_main.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "cdb/logging.h"
#include "cdb/probe.h"
#include "cdb/redis_connection.h"

namespace cdb {
namespace {

constexpr int exit_bad_usage = 2;

sigset_t stop_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    return signals;
}

}  // namespace

int run_service(const ServiceSpec& spec, int argc, char** argv) {
    std::string config_path;
    std::string probe_path;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "--config" || arg == "--probe") && i + 1 < argc) {
            (arg == "--config" ? config_path : probe_path) = argv[++i];
        } else if (arg == "--help" || arg == "-h") {
            std::cout << "usage: " << spec.name << " [--config FILE] [--probe PATH]\n\n"
                      << spec.usage << "\n\nConfiguration: JSON file from --config or $CONFIG_FILE, then one\n"
                      << "environment variable per field (docs/CONFIG.md). Bad configuration exits with status 2.\n"
                      << "--probe PATH  GET http://127.0.0.1:<own port>PATH; exit 0 on 2xx (health checks).\n";
            return 0;
        } else {
            std::cerr << spec.name << ": unknown argument " << arg << " (see --help)\n";
            return exit_bad_usage;
        }
    }

    DeploymentConfig config;
    try {
        config = load_config(config_path, spec.user);
        if (!probe_path.empty()) return run_probe(spec.own_port(config), probe_path);
        setup_logging(spec.name, config.log_level);
    } catch (const ConfigError& error) {
        std::cerr << spec.name << ": " << error.what() << '\n';
        return exit_bad_usage;
    }

    ignore_sigpipe();
    // Blocked before any thread starts, so every thread inherits the mask and only sigwait sees them.
    sigset_t signals = stop_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    std::function<void()> stop;
    try {
        stop = spec.start(config);
    } catch (const std::exception& error) {
        spdlog::critical("cannot start: {}", error.what());
        return 1;
    }
    spdlog::info("serving on port {}", spec.own_port(config));
    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("stopping on signal {}", received);
    stop();
    return 0;
}

}  // namespace cdb
