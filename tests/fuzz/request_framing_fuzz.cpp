// libFuzzer target: the screening of raw request heads that runs before Pistache parses them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cdb/request_framing.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view received(reinterpret_cast<const char*>(data), size);
    const cdb::RequestLimits limits{2048, 4096};
    const auto refusal = cdb::check_framing(received, limits);
    if (refusal && refusal->status != 400 && refusal->status != 413 && refusal->status != 431) std::abort();
    if (!refusal && received.size() > limits.max_head_bytes && received.find("\r\n\r\n") > limits.max_head_bytes - 4) {
        std::abort();  // a head over the limit always gets a 431
    }
    return 0;
}
