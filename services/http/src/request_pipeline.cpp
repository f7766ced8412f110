#include "request_pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>

#include "cdb/text_rules.h"

namespace cdb {
namespace {

using namespace Pistache;

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return text;
}

HttpRequest convert(const Http::Request& request) {
    HttpRequest converted;
    converted.method = Http::methodString(request.method());
    converted.path = request.resource();
    // Pistache splits the query but leaves each part percent-encoded.
    for (auto it = request.query().parameters_begin(); it != request.query().parameters_end(); ++it) {
        converted.raw_query += (converted.raw_query.empty() ? "" : "&") + it->first + "=" + it->second;
        auto name = query_decode(it->first);
        auto value = query_decode(it->second);
        if (!name || !value) {
            converted.malformed = "query parameter " + to_valid_utf8(it->first) + " is not correctly URL-encoded";
            continue;
        }
        converted.query[*name] = *value;
    }
    // Pistache 0.0.5 keeps a raw copy of every header, the typed ones included.
    for (const auto& [name, raw] : request.headers().rawList()) {
        converted.headers[lower(name)] = raw.value();
    }
    // Pistache 0.0.5 lets raw control bytes through in the request target; the LB's upstream client
    // cut the path at a NUL, so GET /get/a<NUL>b reached the slave as GET /get/a.
    if (has_control_character(converted.path) || has_control_character(converted.raw_query)) {
        converted.malformed = "the request target must not contain control characters: percent-encode them";
    }
    converted.body = request.body();
    return converted;
}

// Pistache 0.0.5 answers "Connection: Close" to an HTTP/1.1 request without a Connection header,
// which makes every client and the LB reconnect per request. HTTP/1.1 means keep-alive by default.
bool client_wants_keep_alive(const Http::Request& request) {
    auto connection = request.headers().tryGet<Http::Header::Connection>();
    if (connection) return connection->control() == Http::ConnectionControl::KeepAlive;
    return request.version() == Http::Version::Http11;
}

// The bytes of an answer, laid out as Pistache 0.0.5's ResponseWriter lays them out.
std::string serialize(const HttpResponse& response, Http::Version version, bool keep_alive) {
    std::string bytes;
    bytes.reserve(160 + response.body.size());
    bytes.append(Http::versionString(version)).append(" ").append(std::to_string(response.status)).append(" ");
    bytes.append(Http::codeString(static_cast<Http::Code>(response.status))).append("\r\n");
    bytes.append("Content-Type: ").append(response.content_type).append("\r\n");
    for (const auto& [name, value] : response.headers) bytes.append(name).append(": ").append(value).append("\r\n");
    bytes.append(keep_alive ? "Connection: Keep-Alive\r\n" : "Connection: Close\r\n");
    bytes.append("Content-Length: ").append(std::to_string(response.body.size())).append("\r\n\r\n");
    bytes.append(response.body);
    return bytes;
}

// What an answer needs of its request once the handler has returned: a handler may answer later.
class PendingAnswer {
public:
    PendingAnswer(const Http::Request& request, AnswerDelivery deliver)
        : keep_alive_(client_wants_keep_alive(request)), version_(request.version()), deliver_(std::move(deliver)) {
        if (spdlog::should_log(spdlog::level::debug)) description_ = describe(request);
    }

    void send(HttpResponse response) {
        if (answered_.exchange(true)) return;
        spdlog::debug("{} -> {}", description_, response.status);
        const bool close = !keep_alive_ || response.close_connection;
        deliver_(serialize(response, version_, !close), close);
    }

private:
    const bool keep_alive_;
    const Http::Version version_;
    const AnswerDelivery deliver_;
    std::string description_;
    std::atomic<bool> answered_{false};
};

}  // namespace

RequestPipeline::RequestPipeline(std::shared_ptr<const RouteTable> routes) : routes_(std::move(routes)) {}

void RequestPipeline::handle(const Http::Request& request, AnswerDelivery deliver) const {
    auto pending = std::make_shared<PendingAnswer>(request, std::move(deliver));
    const Reply reply = [pending](HttpResponse response) { pending->send(std::move(response)); };
    try {
        routes_->dispatch(convert(request), reply);
    } catch (const std::exception& error) {
        spdlog::error("{} failed: {}", describe(request), error.what());
        reply(error_response(500, std::string("internal error: ") + error.what()));
    }
}

std::string refusal_bytes(int status, const std::string& message, Http::Version version) {
    return serialize(error_response(status, to_valid_utf8(message)), version, false);
}

std::string describe(const Http::Request& request) {
    return Http::methodString(request.method()) + std::string(" ") + to_valid_utf8(request.resource());
}

}  // namespace cdb
