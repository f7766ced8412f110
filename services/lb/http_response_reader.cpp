#include "http_response_reader.h"

#include <strings.h>

#include <charconv>

namespace cdb::lb {
namespace {

constexpr std::string_view head_end = "\r\n\r\n";

bool same_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

bool has_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        if (same_name(trim(list.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

std::optional<std::string> UpstreamResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (same_name(key, name)) return value;
    }
    return std::nullopt;
}

HttpResponseReader::Progress HttpResponseReader::fail(std::string problem) {
    problem_ = std::move(problem);
    return Progress::invalid;
}

HttpResponseReader::Progress HttpResponseReader::feed(std::string_view bytes) {
    if (done_) return bytes.empty() ? Progress::complete : fail("bytes after the end of the response");
    if (!problem_.empty()) return Progress::invalid;
    if (buffer_.size() + bytes.size() > max_bytes_) {
        return fail("response larger than " + std::to_string(max_bytes_) + " bytes");
    }
    buffer_.append(bytes);
    if (body_start_ == 0) {
        const Progress head = parse_head();
        if (head != Progress::complete) return head;
    }
    return check_body();
}

HttpResponseReader::Progress HttpResponseReader::end_of_stream() {
    if (done_) return Progress::complete;
    if (!problem_.empty()) return Progress::invalid;
    if (body_start_ != 0 && until_close_) {
        response_.body = buffer_.substr(body_start_);
        response_.keep_alive = false;
        done_ = true;
        return Progress::complete;
    }
    problem_ = buffer_.empty() ? "connection closed before any response" : "connection closed in the middle of the response";
    return Progress::invalid;
}

HttpResponseReader::Progress HttpResponseReader::parse_head() {
    const auto end = buffer_.find(head_end);
    if (end == std::string::npos) return Progress::incomplete;
    std::string_view head(buffer_.data(), end);
    const auto line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    // "HTTP/1.1 200 OK": the version, then a three-digit status.
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/" || status_line[8] != ' ') {
        return fail("malformed status line");
    }
    const bool http10 = status_line.substr(5, 3) == "1.0";
    int status = 0;
    const char* digits = status_line.data() + 9;
    if (std::from_chars(digits, digits + 3, status).ptr != digits + 3 || status < 100 || status > 599 ||
        (status_line.size() > 12 && status_line[12] != ' ')) {
        return fail("malformed status line");
    }
    response_.status = status;
    response_.keep_alive = !http10;
    std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    while (!rest.empty()) {
        const auto next = rest.find("\r\n");
        const std::string_view line = rest.substr(0, next);
        rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 2);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return fail("malformed header line");
        const std::string_view name = line.substr(0, colon);
        const std::string_view value = trim(line.substr(colon + 1));
        if (same_name(name, "Content-Length")) {
            std::size_t length = 0;
            const auto parsed = std::from_chars(value.data(), value.data() + value.size(), length);
            if (value.empty() || parsed.ptr != value.data() + value.size() ||
                (content_length_ && *content_length_ != length)) {
                return fail("invalid Content-Length");
            }
            content_length_ = length;
        } else if (same_name(name, "Transfer-Encoding")) {
            return fail("chunked responses are not supported");  // slaves always send Content-Length
        } else if (same_name(name, "Connection")) {
            if (has_token(value, "close")) response_.keep_alive = false;
            if (has_token(value, "keep-alive")) response_.keep_alive = true;
        }
        response_.headers.emplace_back(name, value);
    }
    body_start_ = end + head_end.size();
    if (status < 200) return fail("unexpected informational response");  // we never send Expect
    const bool no_body = head_request_ || status == 204 || status == 304;
    if (no_body) {
        content_length_ = 0;
    } else if (!content_length_) {
        until_close_ = true;
        response_.keep_alive = false;
    }
    return Progress::complete;
}

HttpResponseReader::Progress HttpResponseReader::check_body() {
    if (until_close_) return Progress::incomplete;
    const std::size_t have = buffer_.size() - body_start_;
    if (have < *content_length_) return Progress::incomplete;
    if (have > *content_length_) return fail("bytes after the end of the response");
    response_.body = buffer_.substr(body_start_);
    done_ = true;
    return Progress::complete;
}

}  // namespace cdb::lb
