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

}  // namespace cdb
