// libFuzzer target: the INFO replication text from a Redis, which the LB elects on.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cdb/redis_info.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string info(reinterpret_cast<const char*>(data), size);
    cdb::parse_replication_info(info);
    cdb::info_field(info, "master_link_status");
    return 0;
}
