#include "cdb/protocol.h"

#include <rapidjson/document.h>

#include "cdb/json_builder.h"
#include "cdb/json_input.h"

namespace cdb::protocol {
namespace {

// Each kind of message has its own prefix, so a proof made for one can never pass for another.
std::string grant_message(std::int64_t term, int leader) {
    return "consult-db/leader-grant/v1 " + std::to_string(term) + " " + std::to_string(leader);
}

std::string announcement_message(const AnnouncedLeader& announcement) {
    return "consult-db/leader-announcement/v1 " + std::to_string(announcement.term) + " " +
           std::to_string(announcement.leader) + " " + std::to_string(announcement.followers);
}

std::string lease_message(const LeaseGrant& grant) {
    return "consult-db/lease-grant/v1 " + std::to_string(grant.term) + " " + std::to_string(grant.leader) + " " +
           std::to_string(grant.nonce) + " " + std::to_string(grant.duration_ms);
}

std::string leave_message(const LeaveRequest& request) {
    return "consult-db/cluster-leave/v1 " + std::to_string(request.index) + " " + std::to_string(request.sent_at_ms);
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text, std::uint64_t max) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    for (char digit : text) {
        if (digit < '0' || digit > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(digit - '0');
    }
    if (value > max) return std::nullopt;
    return value;
}

std::optional<std::int64_t> integer_member(const rapidjson::Value& object, const char* name) {
    auto it = object.FindMember(name);
    if (it == object.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
    return it->value.GetInt64();
}

std::optional<std::string_view> string_member(const rapidjson::Value& object, const char* name) {
    auto it = object.FindMember(name);
    if (it == object.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string_view(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

bool valid_term(std::int64_t term) { return term >= 1 && term <= max_term; }
bool valid_leader(std::int64_t leader) { return leader >= 0 && leader < max_clusters; }

std::string leader_grant_proof(const ControlKey& key, std::int64_t term, int leader) {
    return key.prove(grant_message(term, leader));
}

bool leader_grant_proven(const ControlKey& key, std::int64_t term, int leader, std::string_view proof) {
    return key.verify(grant_message(term, leader), proof);
}

std::string encode_announcement(const ControlKey& key, const AnnouncedLeader& announcement) {
    return JsonBuilder()
        .field("term", announcement.term)
        .field("leader", announcement.leader)
        .field("followers", announcement.followers)
        .field("proof", key.prove(announcement_message(announcement)))
        .str();
}

AnnouncementVerdict decode_announcement(const ControlKey& key, const std::string& body) {
    AnnouncementVerdict verdict;
    verdict.problem = R"(body must be {"term": int 1..)" + std::to_string(max_term) + R"(, "leader": int 0..)" +
                      std::to_string(max_clusters - 1) + R"(, "followers"?: int 0..)" +
                      std::to_string(max_clusters - 1) + R"(, "proof": string})";
    rapidjson::Document document;
    if (parse_json_input(document, body) || !document.IsObject()) return verdict;
    const auto term = integer_member(document, "term");
    const auto leader = integer_member(document, "leader");
    const auto followers = document.HasMember("followers") ? integer_member(document, "followers")
                                                           : std::optional<std::int64_t>(0);
    if (!term || !valid_term(*term) || !leader || !valid_leader(*leader) || !followers || *followers < 0 ||
        *followers >= max_clusters) {
        return verdict;
    }
    const AnnouncedLeader announcement{*term, static_cast<int>(*leader), static_cast<int>(*followers)};
    const auto proof = string_member(document, "proof");
    if (!proof || !key.verify(announcement_message(announcement), *proof)) {
        verdict.unproven = true;
        verdict.problem = "the announcement's proof is not the LB's: is CONTROL_PLANE_KEY the same on the LB and "
                          "this slave? (docs/SECURITY.md)";
        return verdict;
    }
    verdict.announcement = announcement;
    verdict.problem.clear();
    return verdict;
}

JsonBuilder& add_reported_leader(JsonBuilder& body, const ControlKey& key, const AnnouncedLeader& state) {
    body.field("term", state.term).field("leader", state.leader);
    if (state.term > 0) body.field("proof", leader_grant_proof(key, state.term, state.leader));
    return body;
}

ReportVerdict decode_reported_leader(const ControlKey& key, const std::string& body) {
    ReportVerdict verdict;
    rapidjson::Document document;
    if (parse_json_input(document, body) || !document.IsObject()) return verdict;
    if (const auto nonce = integer_member(document, lease_nonce_field);
        nonce && *nonce > 0 && static_cast<std::uint64_t>(*nonce) <= max_lease_nonce) {
        verdict.lease_nonce = static_cast<std::uint64_t>(*nonce);
    }
    const auto term = integer_member(document, "term");
    const auto leader = integer_member(document, "leader");
    if (!term || !leader) return verdict;
    if (*term == 0) {  // no leader known yet: nothing to adopt, nothing to prove
        verdict.state = AnnouncedLeader{};
        return verdict;
    }
    if (!valid_term(*term) || !valid_leader(*leader)) return verdict;
    const auto proof = string_member(document, "proof");
    if (!proof || !leader_grant_proven(key, *term, static_cast<int>(*leader), *proof)) {
        verdict.unproven = true;
        return verdict;
    }
    verdict.state = AnnouncedLeader{*term, static_cast<int>(*leader), 0};
    return verdict;
}

std::string encode_lease_grant(const ControlKey& key, const LeaseGrant& grant) {
    return std::to_string(grant.term) + " " + std::to_string(grant.leader) + " " + std::to_string(grant.nonce) + " " +
           std::to_string(grant.duration_ms) + " " + key.prove(lease_message(grant));
}

LeaseGrantVerdict decode_lease_grant(const ControlKey& key, std::string_view header) {
    LeaseGrantVerdict verdict;
    std::string_view fields[5];
    for (auto& field : fields) {
        const auto space = header.find(' ');
        field = header.substr(0, space);
        header = space == std::string_view::npos ? std::string_view() : header.substr(space + 1);
    }
    const auto term = parse_unsigned(fields[0], static_cast<std::uint64_t>(max_term));
    const auto leader = parse_unsigned(fields[1], max_clusters - 1);
    const auto nonce = parse_unsigned(fields[2], max_lease_nonce);
    const auto duration = parse_unsigned(fields[3], static_cast<std::uint64_t>(max_lease_ms));
    if (!term || *term == 0 || !leader || !nonce || *nonce == 0 || !duration || *duration == 0 || fields[4].empty() ||
        !header.empty()) {
        verdict.problem = std::string(lease_grant_header) + " must be \"term leader nonce duration_ms proof\" (term 1 to " +
                          std::to_string(max_term) + ", leader 0 to " + std::to_string(max_clusters - 1) + ", nonce 1 to " +
                          std::to_string(max_lease_nonce) + ", duration 1 to " + std::to_string(max_lease_ms) + ")";
        return verdict;
    }
    const LeaseGrant grant{static_cast<std::int64_t>(*term), static_cast<int>(*leader), *nonce,
                           static_cast<std::int64_t>(*duration)};
    if (!key.verify(lease_message(grant), fields[4])) {
        verdict.unproven = true;
        verdict.problem = "the lease grant's proof is not the LB's: is CONTROL_PLANE_KEY the same on the LB and the "
                          "slaves?";
        return verdict;
    }
    verdict.grant = grant;
    return verdict;
}

std::string encode_leave_request(const ControlKey& key, const LeaveRequest& request) {
    return JsonBuilder()
        .field("index", request.index)
        .field("sent_at_ms", request.sent_at_ms)
        .field("proof", key.prove(leave_message(request)))
        .str();
}

LeaveVerdict decode_leave_request(const ControlKey& key, const std::string& body) {
    LeaveVerdict verdict;
    verdict.problem = R"(body must be {"index": int 0..)" + std::to_string(max_clusters - 1) +
                      R"(, "sent_at_ms": int 1..)" + std::to_string(max_term) + R"(, "proof": string})";
    rapidjson::Document document;
    if (parse_json_input(document, body) || !document.IsObject()) return verdict;
    const auto index = integer_member(document, "index");
    const auto sent_at = integer_member(document, "sent_at_ms");
    if (!index || !valid_leader(*index) || !sent_at || *sent_at < 1 || *sent_at > max_term) return verdict;
    const LeaveRequest request{static_cast<int>(*index), *sent_at};
    const auto proof = string_member(document, "proof");
    if (!proof || !key.verify(leave_message(request), *proof)) {
        verdict.unproven = true;
        verdict.problem = "the leave request's proof is not a slave's: is CONTROL_PLANE_KEY the same on the LB and "
                          "the slaves? (docs/SECURITY.md)";
        return verdict;
    }
    verdict.request = request;
    verdict.problem.clear();
    return verdict;
}

}  // namespace cdb::protocol
