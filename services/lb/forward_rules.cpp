#include "forward_rules.h"

#include "cdb/protocol.h"
#include "slave_state.h"

namespace cdb::lb {
namespace {

// Headers a slave's answer may carry that the client must see.
constexpr const char* passed_headers[] = {protocol::replication_header, "Retry-After", "Allow"};

std::string slave_name(int slave) { return "slave-" + std::to_string(slave); }

}  // namespace

HttpResponse no_slave_could_serve(const std::string& last_problem) {
    return error_response(503, "no slave could serve the request (" + last_problem + ")").with_header("Retry-After", "1");
}

AttemptVerdict judge_attempt(const ControlKey& key, int slave, std::int64_t term, bool idempotent,
                             const UpstreamOutcome& outcome) {
    AttemptVerdict verdict;
    if (!outcome.response) {
        verdict.problem = slave_name(slave) + ": " + outcome.problem;
        verdict.outcome = outcome.failure == UpstreamFailure::timed_out ? "timed_out" : "no_answer";
        // The LB's own refusal says nothing about the slave; a read past its try deadline says it is
        // slow, which the OutlierGuard handles: under load every slave is slow, and ejecting them
        // left no cluster to forward to.
        const bool slow_read = idempotent && outcome.failure == UpstreamFailure::timed_out;
        if (outcome.failure != UpstreamFailure::overloaded && !slow_read) verdict.report = ForwardFailure{slave};
        if (!idempotent && !outcome.never_arrived()) {
            verdict.answer = outcome_unknown_response("no answer from " + verdict.problem +
                                                      "; the write may or may not have been applied, read the key to know");
        }
        return verdict;
    }
    const UpstreamResponse& response = *outcome.response;
    if (const auto reason = response.header(protocol::retry_elsewhere_header)) {
        verdict.untouched = true;
        if (*reason == protocol::no_lease_reason) {  // nothing was sent, and the slave is fine
            verdict.outcome = no_lease_outcome;
            verdict.problem = slave_name(slave) + " holds no lease on the leader";
            return verdict;
        }
        // A stopping slave is ejected at once, before it closes its sockets; one that reports a term
        // without the LB's proof counts as a failed forward.
        const auto reading = response.status == 409 ? read_slave_state(key, response.body) : SlaveStateReading{};
        if (reading.state) {
            verdict.report = SlaveStateReport{slave, *reading.state};
            verdict.outcome = stale_term_outcome;
            verdict.problem = slave_name(slave) + " follows a newer leader term";
        } else if (response.status == 409) {
            verdict.report = ForwardFailure{slave};
            verdict.outcome = "unproven_term";
            verdict.problem = slave_name(slave) + " reported a leader term without the LB's proof";
        } else {
            verdict.report = SlaveStopping{slave};
            verdict.outcome = "stopping";
            verdict.problem = slave_name(slave) + " is stopping";
        }
        return verdict;
    }
    if (response.header(protocol::leader_failure_header)) {  // 503 refused, or 504 outcome unknown
        verdict.report = coordination::LeaderFailureReport{slave, term};
    }
    verdict.outcome = "answered";
    HttpResponse answer = json_response(response.status, response.body);
    if (auto type = response.header("Content-Type")) answer.content_type = *type;
    for (const char* name : passed_headers) {
        if (auto value = response.header(name)) answer.with_header(name, *value);
    }
    verdict.answer = std::move(answer);
    return verdict;
}

}  // namespace cdb::lb
