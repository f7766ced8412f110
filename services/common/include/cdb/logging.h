#pragma once
#include <string>

namespace cdb {
// Sets spdlog's level from a name validated by the configuration (spdlog's own from_str would turn
// logging off on a typo). Logs go to stderr with the service name.
void setup_logging(const std::string& service, const std::string& level);
}  // namespace cdb
