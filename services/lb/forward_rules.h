#pragma once
// What one attempt to reach a slave means for the client's request: answer the client, or try the
// next slave; and what the coordinator must learn from it. Pure, so each rule is a unit test.
// A request that certainly did not reach a slave is tried on the next one, whatever its method; so
// is a read whose slave did not answer. A write whose outcome is unknown is never repeated: the
// client is told so. A slave that touched nothing (it is stopping, or follows a newer term because
// this LB restarted) marks its refusal with X-Retry-Elsewhere: any request may go elsewhere.
#include <optional>
#include <string>

#include "cdb/control_key.h"
#include "cdb/http_types.h"
#include "report_queue.h"
#include "upstream_loop.h"

namespace cdb::lb {

// The outcome of an attempt whose slave follows a newer term than the request carried.
inline constexpr const char* stale_term_outcome = "stale_term";
// The outcome of an attempt refused for lack of a lease (nothing sent).
inline constexpr const char* no_lease_outcome = "no_lease";

struct AttemptVerdict {
    std::optional<HttpResponse> answer;  // none: try the next slave
    std::optional<Report> report;        // for the coordinator loop
    std::string problem;                 // why the attempt failed, for the final error
    const char* outcome;                 // the attempt's metric label
    bool untouched = false;              // the slave refused it before touching anything (X-Retry-Elsewhere)
};

// `key` checks the term a refusing slave reports: a term without the LB's proof is not learnt.
AttemptVerdict judge_attempt(const ControlKey& key, int slave, std::int64_t term, bool idempotent,
                             const UpstreamOutcome& outcome);

// The error for a request that no slave could serve.
HttpResponse no_slave_could_serve(const std::string& last_problem);

}  // namespace cdb::lb
