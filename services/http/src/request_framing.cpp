#include "cdb/request_framing.h"

#include <algorithm>
#include <cctype>

namespace cdb {
namespace {

constexpr std::string_view crlf = "\r\n";

bool is_space(char ch) { return ch == ' ' || ch == '\t'; }

// RFC 9110 5.6.2: tchar.
bool is_token_character(char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
}

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
    int hosts = 0;
    while (!headers.empty()) {
        const auto line_end = headers.find(crlf);
        const std::string_view line = headers.substr(0, line_end);
        headers.remove_prefix(line_end + crlf.size());
        // Pistache ends a header line at CRLF only and takes every other byte into the value: a bare
        // LF would hide the header after it (a Content-Length) from this screen but not from a proxy
        // that ends lines at LF. HAProxy and nginx refuse these too.
        if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
            return FramingRefusal{400, "a CR, LF or NUL inside a header line"};
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) return FramingRefusal{400, "a header line without a colon"};
        const std::string_view name = line.substr(0, colon);
        // A field name is a token: no white space before the colon (RFC 9112 5.1), none inside it,
        // none before it (obsolete line folding, RFC 9112 5.2).
        if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_character)) {
            return FramingRefusal{400, "a header name that is not a token (white space or a separator in it)"};
        }
        // Two Hosts name two targets; proxies disagree on which one counts (RFC 9112 3.2).
        if (equals_ignoring_case(name, "host") && ++hosts > 1) return FramingRefusal{400, "more than one Host header"};
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

ChunkedTrailer::Step ChunkedTrailer::read(std::string_view input, std::size_t max_bytes) {
    for (std::size_t at = 0; at < input.size(); ++at) {
        const char ch = input[at];
        if (++seen_ > max_bytes) return {Progress::refused, at};
        if (after_cr_) {
            if (ch != '\n') return {Progress::refused, at};
            after_cr_ = false;
            if (line_start_) return {Progress::done, at + 1};  // the empty line
            line_start_ = true;
        } else if (ch == '\r') {
            after_cr_ = true;
        } else if (ch == '\n' || ch == '\0') {
            return {Progress::refused, at};
        } else {
            line_start_ = false;
        }
    }
    return {Progress::more, input.size()};
}

}  // namespace cdb
