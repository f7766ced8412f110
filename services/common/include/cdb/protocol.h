#pragma once
// The LB ↔ slave wire protocol (docs/PROTOCOL.md) in one place: header names, paths, limits, and the
// messages whose proof shows that the LB sent them. Both services build their messages from here, so
// a renamed header fails to compile instead of failing an integration test.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cdb/control_key.h"
#include "cdb/json_builder.h"
#include "cdb/announced_leader.h"

namespace cdb::protocol {

// Headers of a forwarded request (LB → slave) and of its answer (slave → LB).
inline constexpr const char* leader_term_header = "X-Leader-Term";
inline constexpr const char* leader_header = "X-Leader";
inline constexpr const char* leader_proof_header = "X-Leader-Proof";
inline constexpr const char* leader_failure_header = "X-Leader-Failure";
inline constexpr const char* retry_elsewhere_header = "X-Retry-Elsewhere";
inline constexpr const char* replication_header = "X-Replication";
// On the LB's GET /status probe and PUT /internal/leader: a lease on the leader (§9).
inline constexpr const char* lease_grant_header = "X-Lease-Grant";
// In a slave's /status answer: the nonce the LB's next grant names.
inline constexpr const char* lease_nonce_field = "lease_nonce";
// X-Retry-Elsewhere's value from a slave that is stopping (on a forwarded request or on /status):
// the LB ejects it at once.
inline constexpr const char* stopping_reason = "stopping";
// X-Retry-Elsewhere's value on a data request a slave refused because it holds no lease (§9):
// nothing was sent to Redis, or it was a read whose answer came after the lease and was dropped,
// so the LB tries the next slave. Not a failure of the slave: its lease lapses when its probe is
// late (a frozen Redis of its own, a busy or throttled machine), and another slave's may be fresh.
inline constexpr const char* no_lease_reason = "no-lease";

inline constexpr const char* announce_path = "/internal/leader";
inline constexpr const char* status_path = "/status";

// Cluster indices are 0 .. max_clusters - 1.
inline constexpr int max_clusters = 256;
// Every JSON parser reads a term up to 2^53 exactly, and `term + 1` of an election can never overflow.
inline constexpr std::int64_t max_term = (std::int64_t{1} << 53) - 1;

// Nonces stay below 2^53, so that every JSON parser reads them exactly.
inline constexpr std::uint64_t max_lease_nonce = (std::uint64_t{1} << 53) - 1;
inline constexpr std::int64_t max_lease_ms = 60000;

bool valid_term(std::int64_t term);        // 1 .. max_term
bool valid_leader(std::int64_t leader);    // 0 .. max_clusters - 1

// (term, leader) as the LB grants it: what X-Leader-Proof covers on a forwarded request, and the
// "proof" a slave's /status or 409 answer carries for the state it follows. Whoever holds the
// control-plane key can make one; nobody else can.
std::string leader_grant_proof(const ControlKey& key, std::int64_t term, int leader);
bool leader_grant_proven(const ControlKey& key, std::int64_t term, int leader, std::string_view proof);

// The body of PUT /internal/leader, and its proof: followers are covered too, since a forged count
// would make every slave skip (or wait for) the replication of its writes.
std::string encode_announcement(const ControlKey& key, const AnnouncedLeader& announcement);
// The announcement when the body is well formed and proven; otherwise why not, in `problem`, and
// whether the body was well formed but its proof missing or wrong (`unproven`).
struct AnnouncementVerdict {
    std::optional<AnnouncedLeader> announcement;
    std::string problem;
    bool unproven = false;
};
AnnouncementVerdict decode_announcement(const ControlKey& key, const std::string& body);

// A slave's (term, leader) from its /status answer or a 409 refusal, when it carries a valid proof
// (term 0, "no leader yet", needs none). Anything else says nothing the LB may adopt.
// Adds "term", "leader" and, once a leader is known, its "proof" to a slave's answer.
JsonBuilder& add_reported_leader(JsonBuilder& body, const ControlKey& key, const AnnouncedLeader& state);
struct ReportVerdict {
    std::optional<AnnouncedLeader> state;  // `followers` is not reported: 0
    bool unproven = false;  // well formed, but the proof is missing or wrong
    std::optional<std::uint64_t> lease_nonce;  // a /status answer's, for the LB's next lease grant
};
ReportVerdict decode_reported_leader(const ControlKey& key, const std::string& body);

// A lease (docs/ELECTION.md, "Leases"): the slave may use `leader`'s Redis at `term` until
// `duration_ms` after it sent `nonce`, on its own clock. X-Lease-Grant: "term leader nonce duration proof".
struct LeaseGrant {
    std::int64_t term = 0;
    int leader = 0;
    std::uint64_t nonce = 0;
    std::int64_t duration_ms = 0;
};
std::string encode_lease_grant(const ControlKey& key, const LeaseGrant& grant);
struct LeaseGrantVerdict {
    std::optional<LeaseGrant> grant;
    std::string problem;
    bool unproven = false;  // well formed, but the proof is missing or wrong
};
LeaseGrantVerdict decode_lease_grant(const ControlKey& key, std::string_view header);

// §10. A slave told to stop asks the LB to move the leadership off its cluster first: PUT /lb/leave
// {"index", "sent_at_ms", "proof"}. `sent_at_ms`: milliseconds since the Unix epoch on the slave's
// clock, strictly growing for each index (the LB keeps the last one it accepted) and within
// `leave_window_ms` of the LB's clock: a captured request cannot be played again, nor kept for later.
inline constexpr const char* leave_path = "/lb/leave";
inline constexpr std::int64_t leave_window_ms = 30000;
// The LB's answers to a proven, fresh leave request: the cluster holds no leadership and gets no
// request (the slave may stop its Redis), or the hand-over is under way (ask again).
inline constexpr int leave_handed_over_status = 200;
inline constexpr int leave_under_way_status = 202;
// On the slave's own port, for the Redis container's preStop: 200 once this slave has handed over
// (or given up waiting), 503 before.
inline constexpr const char* handover_path = "/internal/handover";

struct LeaveRequest {
    int index = 0;
    std::int64_t sent_at_ms = 0;
};
std::string encode_leave_request(const ControlKey& key, const LeaveRequest& request);
struct LeaveVerdict {
    std::optional<LeaveRequest> request;
    std::string problem;
    bool unproven = false;  // well formed, but the proof is missing or wrong
};
LeaveVerdict decode_leave_request(const ControlKey& key, const std::string& body);

}  // namespace cdb::protocol
