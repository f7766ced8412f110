#include "cdb/json_input.h"

#include <rapidjson/error/en.h>

namespace cdb {

bool json_nested_deeper_than(std::string_view text, int limit) {
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char ch : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (ch == '\\') escaped = true;
            else if (ch == '"') in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > limit) return true;
        } else if (ch == ']' || ch == '}') {
            --depth;
        }
    }
    return false;
}

std::optional<std::string> parse_json_input(rapidjson::Document& document, std::string_view text) {
    if (json_nested_deeper_than(text, max_json_depth)) {
        return "nested deeper than " + std::to_string(max_json_depth) + " levels";
    }
    document.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    if (!document.HasParseError()) return std::nullopt;
    return std::string(rapidjson::GetParseError_En(document.GetParseError())) + " at offset " +
           std::to_string(document.GetErrorOffset());
}

}  // namespace cdb
