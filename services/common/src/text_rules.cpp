#include "cdb/text_rules.h"

#include <algorithm>
#include <cstdint>

namespace cdb {

namespace {

// Length of the valid UTF-8 sequence at text[i], or 0 when it is not valid.
std::size_t valid_sequence_length(std::string_view text, std::size_t i) {
    const std::size_t n = text.size();
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) return 1;
    std::size_t length = 0;
        std::uint32_t code = 0;
    if ((lead & 0xE0) == 0xC0) { length = 2; code = lead & 0x1F; }
    else if ((lead & 0xF0) == 0xE0) { length = 3; code = lead & 0x0F; }
    else if ((lead & 0xF8) == 0xF0) { length = 4; code = lead & 0x07; }
    else return 0;
    if (i + length > n) return 0;
    for (std::size_t k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(text[i + k]);
        if ((next & 0xC0) != 0x80) return 0;
        code = (code << 6) | (next & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    static const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) return 0;
    return length;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = valid_sequence_length(text, i);
        if (length == 0) return false;
        i += length;
    }
    return true;
}

bool has_control_character(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char ch) {
        const auto byte = static_cast<unsigned char>(ch);
        return byte < 0x20 || byte == 0x7F;
    });
}

std::string to_valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = valid_sequence_length(text, i);
        if (length == 0) {
            out += '?';
            ++i;
        } else {
            out.append(text.substr(i, length));
            i += length;
        }
    }
    return out;
}

namespace {

std::optional<TextVerdict> check_common(std::string_view text, std::size_t max_bytes, const char* what) {
    if (text.size() > max_bytes) {
        return TextVerdict{TextProblem::too_long, std::string(what) + " is " + std::to_string(text.size()) +
                                                      " bytes, the limit is " + std::to_string(max_bytes)};
    }
    if (!is_valid_utf8(text)) return TextVerdict{TextProblem::invalid_utf8, std::string(what) + " is not valid UTF-8"};
    return std::nullopt;
}

}  // namespace

std::optional<TextVerdict> check_key(std::string_view key, std::size_t max_bytes) {
    if (key.empty()) return TextVerdict{TextProblem::empty, "key must not be empty"};
    if (auto problem = check_common(key, max_bytes, "key")) return problem;
    if (has_control_character(key)) return TextVerdict{TextProblem::control_character, "key must not contain control characters"};
    return std::nullopt;
}

std::optional<TextVerdict> check_value(std::string_view value, std::size_t max_bytes) {
    return check_common(value, max_bytes, "value");
}

std::optional<std::string> percent_decode(std::string_view encoded) {
    auto hex = [](char ch) -> int {
        if (ch >= '0' && ch <= '9') return ch - '0';
        if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
        return -1;
    };
    std::string decoded;
    decoded.reserve(encoded.size());
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (encoded[i] != '%') {
            decoded += encoded[i];
            continue;
        }
        if (i + 2 >= encoded.size()) return std::nullopt;
        const int high = hex(encoded[i + 1]);
        const int low = hex(encoded[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        decoded += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return decoded;
}

std::optional<std::string> query_decode(std::string_view encoded) {
    std::string spaced(encoded);
    std::replace(spaced.begin(), spaced.end(), '+', ' ');
    return percent_decode(spaced);
}

}  // namespace cdb
