#pragma once
// What a key and a value may be. Keys travel in URL paths, logs and JSON, so they are printable
// UTF-8; values are any valid UTF-8 (JSON escapes what needs escaping).
#include <optional>
#include <string>
#include <string_view>

namespace cdb {

bool is_valid_utf8(std::string_view text);

// A byte below 0x20 (NUL, CR, LF...) or DEL.
bool has_control_character(std::string_view text);

// Replaces each byte that is not part of valid UTF-8 with '?', so text from a client can always be
// echoed in JSON or logs.
std::string to_valid_utf8(std::string_view text);

enum class TextProblem { empty, too_long, invalid_utf8, control_character };

struct TextVerdict {
    TextProblem problem;
    std::string message;
};

std::optional<TextVerdict> check_key(std::string_view key, std::size_t max_bytes);
std::optional<TextVerdict> check_value(std::string_view value, std::size_t max_bytes);

// Percent-decodes a URL component; nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view encoded);
// The same for a query-string component, where '+' stands for a space.
std::optional<std::string> query_decode(std::string_view encoded);

}  // namespace cdb
