#include "cdb/request_framing.h"

#include <algorithm>
#include <cctype>

namespace cdb {
namespace {

constexpr std::string_view crlf = "\r\n";

bool is_space(char ch) { return ch == ' ' || ch == '\t'; }

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

std::optional<FramingRefusal> check_framing(std::string_view received, const RequestLimits& limits) {
    const auto head_end = received.find("\r\n\r\n");
    const std::size_t head_size = head_end == std::string_view::npos ? received.size() : head_end + 4;
    if (head_size > limits.max_head_bytes) {
        return FramingRefusal{431, "the request line and headers are over the limit of " +
                                       std::to_string(limits.max_head_bytes) + " bytes"};
    }
    if (head_end == std::string_view::npos) return std::nullopt;
    std::string_view headers = received.substr(0, head_end + crlf.size());
    headers.remove_prefix(std::min(headers.size(), headers.find(crlf) + crlf.size()));  // the request line
    int content_lengths = 0;
    while (!headers.empty()) {
        const auto line_end = headers.find(crlf);
        const std::string_view line = headers.substr(0, line_end);
        headers.remove_prefix(line_end + crlf.size());
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;  // Pistache answers it with its header timeout
        const std::string_view name = line.substr(0, colon);
        if (!name.empty() && is_space(name.back())) {
            return FramingRefusal{400, "white space between a header name and its colon"};
        }
        if (!equals_ignoring_case(name, "content-length")) continue;
        if (++content_lengths > 1) return FramingRefusal{400, "more than one Content-Length header"};
        const std::string_view value = trimmed(line.substr(colon + 1));
        // 19 digits always fit in 64 bits; a longer number is over any limit anyway.
        const bool decimal = !value.empty() && std::all_of(value.begin(), value.end(), [](char ch) {
            return std::isdigit(static_cast<unsigned char>(ch));
        });
        if (!decimal) return FramingRefusal{400, "Content-Length must be a non-negative decimal integer"};
        const auto digits = value.substr(std::min(value.find_first_not_of('0'), value.size()));
        if (digits.size() > 19 || std::stoull(std::string(digits.empty() ? "0" : digits)) > limits.max_request_bytes) {
            return FramingRefusal{413, "Content-Length is over the limit of " +
                                           std::to_string(limits.max_request_bytes) + " bytes per request"};
        }
    }
    return std::nullopt;
}

}  // namespace cdb
