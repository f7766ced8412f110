#pragma once
// Where a request's body ends must be unambiguous before anything is parsed: Pistache 0.0.5 reads
// `Content-Length: -5` as 2^64-5 (a 500 from a failed allocation), `abc` as 0 and `5, 6` as 5, and
// keeps the connection, so the bytes that follow would be read as another request
// (docs/PISTACHE.md). HttpServer screens each request head with this before Pistache parses it.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cdb {

struct FramingRefusal {
    int status;  // 400, 413 or 431
    std::string message;
};

struct RequestLimits {
    // Pistache re-parses a request's whole head at every read until it is complete, so a head of
    // half a megabyte cost a server thread a second of CPU: the head is bounded separately.
    std::size_t max_head_bytes;
    std::size_t max_request_bytes;
};

// `received` is what arrived of one request, from its first byte. Refuses a head (request line and
// headers) longer than the limit, and, once the blank line that ends the head has arrived, a
// Content-Length that is not one plain decimal, several Content-Length headers, a header name with
// white space before its colon, and a body announced larger than the request limit.
std::optional<FramingRefusal> check_framing(std::string_view received, const RequestLimits& limits);

// What follows the last chunk of a chunked body: optional trailer fields, then an empty line.
// Pistache 0.0.5 ends the request at the last chunk's size line and leaves the rest unread, so the
// next request on the connection began with a CRLF and was answered 400 (or 408). HttpServer reads
// the trailer section with this, in as many pieces as it arrives, and discards it.
class ChunkedTrailer {
public:
    enum class Progress { more, done, refused };
    struct Step {
        Progress progress;
        std::size_t consumed;  // bytes of `input` that belong to the trailer section
    };
    // Refused: a bare CR or LF, a NUL, or more than `max_bytes` in all.
    Step read(std::string_view input, std::size_t max_bytes);

private:
    std::size_t seen_ = 0;
    bool line_start_ = true;
    bool after_cr_ = false;
};

}  // namespace cdb
