#include "cdb/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cdb/config.h"

namespace cdb {

void setup_logging(const std::string& service, const std::string& level) {
    const auto parsed = spdlog::level::from_str(level);
    if (parsed == spdlog::level::off && level != "off") {
        throw ConfigError("invalid configuration: log_level \"" + level + "\" is not a level");
    }
    auto logger = spdlog::stderr_logger_mt(service);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ " + service + " %v");
    logger->set_level(parsed);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
}

}  // namespace cdb
