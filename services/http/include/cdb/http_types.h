#pragma once
// Framework-neutral request and response, so routes are plain functions that tests can call and the
// HTTP library stays behind one adapter.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdb {

// Header names compare without regard to case (RFC 9110 §5.1), so a lookup by a name as the protocol
// spells it ("X-Leader-Term") finds it however the sender wrote it.
struct CaseInsensitiveLess {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const;
};

struct HttpRequest {
    std::string method;                        // "GET", "POST", ...
    std::string path;                          // as received, still percent-encoded
    std::string raw_query;                     // as received, without '?'
    std::map<std::string, std::string> query;  // decoded parameters
    std::map<std::string, std::string, CaseInsensitiveLess> headers;
    std::string body;
    // Set while reading the request when part of it cannot be understood; dispatch answers 400 with it.
    std::optional<std::string> malformed;

    std::optional<std::string> header(std::string_view name) const;
    std::optional<std::string> query_param(const std::string& name) const;
};

struct HttpResponse {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    bool close_connection = false;  // close after this response even when the client wants keep-alive

    HttpResponse& with_header(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    std::optional<std::string> header(const std::string& name) const;
};

HttpResponse json_response(int status, std::string body);
HttpResponse error_response(int status, const std::string& message);
// A write that was sent and got no answer: it may or may not have taken effect, now or later
// (docs/API.md). `504 {"error", "outcome": "unknown"}`, never to be confused with a refusal (503)
// that guarantees nothing was written.
HttpResponse outcome_unknown_response(const std::string& message);

}  // namespace cdb
