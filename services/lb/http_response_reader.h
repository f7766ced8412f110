#pragma once
// Reads one HTTP/1.1 response from a slave as its bytes arrive, in any number of pieces. Pure: no
// sockets, so every way a response can be cut or malformed is a unit test. Bounded: a response
// larger than the limit is refused rather than buffered.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdb::lb {

struct UpstreamResponse {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // names as received
    std::string body;
    bool keep_alive = true;  // the connection may carry the next request

    // The first header named `name`, compared without regard to case.
    std::optional<std::string> header(std::string_view name) const;
};

class HttpResponseReader {
public:
    enum class Progress { incomplete, complete, invalid };

    // `head_request`: the response to a HEAD has no body whatever its Content-Length says.
    explicit HttpResponseReader(std::size_t max_bytes, bool head_request = false)
        : max_bytes_(max_bytes), head_request_(head_request) {}

    // More bytes from the connection. Bytes past the end of the response are invalid: requests are
    // never pipelined, so a slave has nothing more to say until asked.
    Progress feed(std::string_view bytes);
    // The connection closed: ends a body delimited by the close, or the response is cut short.
    Progress end_of_stream();

    // Why the response is invalid or incomplete, for the error a client sees.
    const std::string& problem() const { return problem_; }
    // The complete response (once, after `complete`).
    UpstreamResponse take() { return std::move(response_); }

private:
    Progress parse_head();
    Progress check_body();
    Progress fail(std::string problem);

    const std::size_t max_bytes_;
    const bool head_request_;
    std::string buffer_;
    std::size_t body_start_ = 0;  // 0 until the head is parsed
    std::optional<std::size_t> content_length_;
    bool until_close_ = false;
    bool done_ = false;
    UpstreamResponse response_;
    std::string problem_;
};

}  // namespace cdb::lb
