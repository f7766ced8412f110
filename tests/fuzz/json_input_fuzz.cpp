// libFuzzer target: every JSON the services read from outside (request bodies, a slave's answers
// as the LB reads them).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cdb/json_input.h"
#include "slave_state.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    rapidjson::Document document;
    const auto problem = cdb::parse_json_input(document, text);
    if (!problem && cdb::json_nested_deeper_than(text, cdb::max_json_depth)) std::abort();
    static const cdb::ControlKey key("control-plane-key-of-the-fuzzer-001");
    cdb::lb::read_slave_state(key, text);
    return 0;
}
