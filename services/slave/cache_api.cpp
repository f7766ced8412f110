#include "cache_api.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <thread>

#include "cdb/json_builder.h"
#include "cdb/json_input.h"
#include "cdb/protocol.h"
#include "cdb/text_rules.h"

namespace cdb::slave {
namespace {

constexpr long long max_ttl_seconds = 10LL * 365 * 24 * 3600;
constexpr int default_list_count = 100;

std::optional<long long> parse_decimal(const std::string& text, long long max) {
    if (text.empty() || text.size() > 19 ||
        !std::all_of(text.begin(), text.end(), [](unsigned char ch) { return std::isdigit(ch); })) {
        return std::nullopt;
    }
    const long long value = std::stoll(text);
    if (value > max) return std::nullopt;
    return value;
}

HttpResponse unavailable(const std::string& message, const AnnouncedLeader& state) {
    return json_response(503, JsonBuilder()
                                  .field("error", message)
                                  .field("term", state.term)
                                  .field("leader", state.leader)
                                  .str())
        .with_header("Retry-After", "1");
}

int status_for(const TextVerdict& verdict) { return verdict.problem == TextProblem::too_long ? 413 : 400; }

}  // namespace

CacheApi::CacheApi(const LimitsConfig& limits, LeaderLink& leader, Drain& drain, Metrics& metrics)
    : limits_(limits), leader_(leader), drain_(drain), metrics_(metrics) {
    metrics_.describe("requests_total", "counter", "Data API requests by route and status.");
    metrics_.describe("control_rejected_total", "counter",
                      "Control messages refused for lack of the LB's proof; they changed nothing.");
}

void CacheApi::add_routes(RouteTable& routes) {
    routes.exact("GET", "/list-keys", guarded("list-keys", &CacheApi::list_keys_route))
        .prefix("GET", "/get/", guarded("get", &CacheApi::get_route))
        .exact("POST", "/set", guarded("set", &CacheApi::set_route))
        .prefix("DELETE", "/delete/", guarded("delete", &CacheApi::remove_route));
}

RouteHandler CacheApi::guarded(const char* route,
                               HttpResponse (CacheApi::*handler)(const HttpRequest&, std::string_view)) {
    return [this, route, handler](const HttpRequest& request, std::string_view tail) {
        const Drain::Request in_flight(drain_);
        HttpResponse response;
        if (drain_.stopping()) {
            response = drain_.tell_lb();
        } else if (auto refusal = follow_forwarded_term(request)) {
            response = std::move(*refusal);
        } else if (!leader_.accept_lease_grant(request)) {
            metrics_.add("control_rejected_total", label("message", "lease_grant"));
            response = error_response(403, std::string("refused: ") + protocol::lease_grant_header +
                                               " comes only from the LB, with its proof; nothing was changed");
        } else {
            response = (this->*handler)(request, tail);
        }
        metrics_.add("requests_total", label("route", route) + "," + label("status", std::to_string(response.status)));
        return response;
    };
}

std::optional<HttpResponse> CacheApi::follow_forwarded_term(const HttpRequest& request) {
    auto term_header = request.header(protocol::leader_term_header);
    auto leader_header = request.header(protocol::leader_header);
    auto proof = request.header(protocol::leader_proof_header);
    if (!term_header && !leader_header && !proof) return std::nullopt;
    auto term = parse_decimal(term_header.value_or(""), protocol::max_term);
    auto leader = parse_decimal(leader_header.value_or(""), protocol::max_clusters - 1);
    if (!term || !leader || !protocol::valid_term(*term)) {
        return error_response(400, std::string(protocol::leader_term_header) + " must be an integer from 1 to " +
                                       std::to_string(protocol::max_term) + " and " + protocol::leader_header +
                                       " one from 0 to " + std::to_string(protocol::max_clusters - 1));
    }
    if (!protocol::leader_grant_proven(leader_.control_key(), *term, static_cast<int>(*leader), proof.value_or(""))) {
        metrics_.add("control_rejected_total", label("message", "forwarded"));
        return error_response(403, std::string("refused: ") + protocol::leader_term_header + " and " +
                                       protocol::leader_header + " come only from the LB, with its " +
                                       protocol::leader_proof_header + "; nothing was changed (docs/PROTOCOL.md)");
    }
    AnnouncedLeader proposal = leader_.state();
    proposal.term = *term;
    proposal.leader = static_cast<int>(*leader);
    const LeaderUpdate update = leader_.propose(proposal);
    if (update == LeaderUpdate::adopted || update == LeaderUpdate::confirmed) return std::nullopt;
    JsonBuilder body;
    body.field("error", std::string("refused leader term ") + std::to_string(*term) + ": " + to_string(update));
    return json_response(409, protocol::add_reported_leader(body, leader_.control_key(), leader_.state()).str())
        .with_header(protocol::retry_elsewhere_header, "stale-term");
}

std::optional<std::string> CacheApi::decode_key(std::string_view encoded, HttpResponse& rejection) const {
    auto key = percent_decode(encoded);
    if (!key) {
        rejection = error_response(400, "key is not correctly URL-encoded");
        return std::nullopt;
    }
    if (auto verdict = check_key(*key, static_cast<std::size_t>(limits_.max_key_bytes))) {
        rejection = error_response(status_for(*verdict), verdict->message);
        return std::nullopt;
    }
    return key;
}

HttpResponse CacheApi::failure_response(const LeaderCall& call) const {
    HttpResponse response =
        call.outcome_unknown
            ? outcome_unknown_response("the leader's Redis did not answer the write (" + call.message +
                                       "); it may or may not have been applied, read the key to know")
            : unavailable(call.message, call.state);
    const bool counts = call.failure == LeaderFailure::leader_unreachable ||
                        call.failure == LeaderFailure::leader_not_master;
    if (counts) response.with_header(protocol::leader_failure_header, std::to_string(call.state.term));
    // Nothing was sent, or only a read whose answer was dropped: another slave's lease may be fresh.
    const bool changed_nothing = call.failure == LeaderFailure::no_lease ||
                                 (call.failure == LeaderFailure::lease_expired && !call.outcome_unknown);
    if (changed_nothing) response.with_header(protocol::retry_elsewhere_header, protocol::no_lease_reason);
    return response;
}

HttpResponse CacheApi::refusal_response(const LeaderCall& call, const char* operation) const {
    // An error reply such as OOM (maxmemory reached): the leader answers, so this is no failure to elect on.
    return unavailable(std::string("the leader's Redis refused the ") + operation + ": " + call.reply.text().value_or(""),
                       call.state);
}

HttpResponse CacheApi::served(HttpResponse response, const LeaderCall& call) const {
    response.with_header(protocol::leader_term_header, std::to_string(call.state.term))
        .with_header(protocol::leader_header, std::to_string(call.state.leader));
    if (!call.replication.empty()) response.with_header(protocol::replication_header, call.replication);
    return response;
}

HttpResponse CacheApi::list_keys(const HttpRequest& request) {
    const std::string pattern = request.query_param("pattern").value_or("*");
    if (auto verdict = check_key(pattern, static_cast<std::size_t>(limits_.max_key_bytes))) {
        return error_response(status_for(*verdict), "pattern: " + verdict->message);
    }
    const std::string cursor_text = request.query_param("cursor").value_or("0");
    if (!parse_decimal(cursor_text, LLONG_MAX)) return error_response(400, "cursor must be a non-negative integer");
    long long count = default_list_count;
    if (auto count_text = request.query_param("count")) {
        auto parsed = parse_decimal(*count_text, limits_.max_list_count);
        if (!parsed || *parsed == 0) {
            return error_response(400, "count must be an integer from 1 to " + std::to_string(limits_.max_list_count));
        }
        count = *parsed;
    }
    LeaderCall call = leader_.read({"SCAN", cursor_text, "MATCH", pattern, "COUNT", std::to_string(count)});
    if (call.failure != LeaderFailure::none) return failure_response(call);
    if (call.reply.array_size() != 2) {
        return error_response(502, "unexpected SCAN reply: " + call.reply.text().value_or("not an array"));
    }
    return served(json_response(200, JsonBuilder()
                                         .field("keys", reply_texts(call.reply.element(1)))
                                         .field("cursor", reply_text(call.reply.element(0)).value_or("0"))
                                         .str()),
                  call);
}

HttpResponse CacheApi::get(std::string_view encoded_key) {
    HttpResponse rejection;
    auto key = decode_key(encoded_key, rejection);
    if (!key) return rejection;
    LeaderCall call = leader_.read({"GET", *key});
    if (call.failure != LeaderFailure::none) return failure_response(call);
    if (call.reply.is_nil()) return served(error_response(404, "key not found: " + *key), call);
    if (call.reply.is_error_reply()) {
        return served(error_response(409, "key holds a value this API cannot read: " + call.reply.text().value_or("")),
                      call);
    }
    return served(json_response(200, JsonBuilder().field("key", *key).field("value", call.reply.text().value_or("")).str()),
                  call);
}

HttpResponse CacheApi::set(const HttpRequest& request) {
    if (auto type = request.header("content-type")) {
        if (type->rfind("application/json", 0) != 0) {
            return error_response(415, "Content-Type must be application/json, got " + *type);
        }
    }
    rapidjson::Document body;
    if (auto problem = parse_json_input(body, request.body)) {
        return error_response(400, "body is not valid JSON: " + *problem);
    }
    if (!body.IsObject()) return error_response(400, "body must be a JSON object {\"key\", \"value\", \"ttl\"?}");
    for (auto it = body.MemberBegin(); it != body.MemberEnd(); ++it) {
        const std::string name(it->name.GetString(), it->name.GetStringLength());
        if (name != "key" && name != "value" && name != "ttl") return error_response(400, "unknown field: " + name);
    }
    auto string_member = [&](const char* name) -> std::optional<std::string> {
        auto it = body.FindMember(name);
        if (it == body.MemberEnd() || !it->value.IsString()) return std::nullopt;
        return std::string(it->value.GetString(), it->value.GetStringLength());
    };
    auto key = string_member("key");
    auto value = string_member("value");
    if (!key) return error_response(400, "field key is required and must be a string");
    if (!value) return error_response(400, "field value is required and must be a string");
    if (auto verdict = check_key(*key, static_cast<std::size_t>(limits_.max_key_bytes))) {
        return error_response(status_for(*verdict), verdict->message);
    }
    if (auto verdict = check_value(*value, static_cast<std::size_t>(limits_.max_value_bytes))) {
        return error_response(status_for(*verdict), verdict->message);
    }
    std::vector<std::string> command{"SET", *key, *value};
    auto ttl = body.FindMember("ttl");
    if (ttl != body.MemberEnd()) {
        if (!ttl->value.IsInt64() || ttl->value.GetInt64() < 1 || ttl->value.GetInt64() > max_ttl_seconds) {
            return error_response(400, "field ttl must be an integer number of seconds from 1 to " +
                                           std::to_string(max_ttl_seconds));
        }
        command.insert(command.end(), {"EX", std::to_string(ttl->value.GetInt64())});
    }
    LeaderCall call = leader_.write(command);
    if (call.failure != LeaderFailure::none) return failure_response(call);
    if (!call.reply.is_status("OK")) return refusal_response(call, "write");
    return served(json_response(200, JsonBuilder().field("key", *key).field("stored", true).str()), call);
}

HttpResponse CacheApi::remove(std::string_view encoded_key) {
    HttpResponse rejection;
    auto key = decode_key(encoded_key, rejection);
    if (!key) return rejection;
    LeaderCall call = leader_.write({"DEL", *key});
    if (call.failure != LeaderFailure::none) return failure_response(call);
    if (!call.reply.integer()) return refusal_response(call, "delete");
    if (*call.reply.integer() == 0) return served(error_response(404, "key not found: " + *key), call);
    return served(json_response(200, JsonBuilder().field("key", *key).field("deleted", true).str()), call);
}

}  // namespace cdb::slave
