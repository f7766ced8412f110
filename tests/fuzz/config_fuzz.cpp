// libFuzzer target: the configuration file. A bad one must be a ConfigError that names the
// problem, never another exception or a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cdb/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const cdb::EnvLookup no_environment = [](const std::string&) { return std::optional<std::string>(); };
    for (auto user : {cdb::ConfigUser::slave, cdb::ConfigUser::lb}) {
        try {
            cdb::parse_config(text, no_environment, user, "slave-1");
        } catch (const cdb::ConfigError&) {
        }
    }
    return 0;
}
