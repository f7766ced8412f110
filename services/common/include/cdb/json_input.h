#pragma once
// How JSON that comes from outside the process (request bodies, other services' answers) is read.
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

namespace cdb {

// Nothing this project reads is nested deeper than this.
constexpr int max_json_depth = 32;

// True when `text` opens more than `limit` arrays or objects inside each other (outside strings).
bool json_nested_deeper_than(std::string_view text, int limit);

// Parses `text` into `document`; nullopt on success, else why it is not acceptable JSON. RapidJSON's
// parser recurses once per nesting level: a body of 300 000 '[' overflowed a server thread's stack
// and killed the process, so deeper nesting than max_json_depth is refused before parsing. Invalid
// UTF-8 is refused too, so every string read from the document can be echoed.
std::optional<std::string> parse_json_input(rapidjson::Document& document, std::string_view text);

}  // namespace cdb
