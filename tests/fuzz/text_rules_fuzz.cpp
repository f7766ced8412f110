// libFuzzer target: the key and value rules and URL decoding that every request path and query goes through.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cdb/text_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string repaired = cdb::to_valid_utf8(text);
    if (!cdb::is_valid_utf8(repaired) || repaired.size() != text.size()) std::abort();
    if (cdb::is_valid_utf8(text) && repaired != text) std::abort();
    for (auto decoded : {cdb::percent_decode(text), cdb::query_decode(text)}) {
        if (decoded && decoded->size() > text.size()) std::abort();
        if (decoded) cdb::check_key(*decoded, 512);
    }
    const auto key = cdb::check_key(text, 64);
    if (!key && (text.empty() || text.size() > 64 || cdb::has_control_character(text))) std::abort();
    cdb::check_value(text, 64);
    return 0;
}
