#pragma once
#include <optional>
#include <string>

#include "cdb/control_key.h"
#include "cdb/coordination/events.h"

namespace cdb::lb {

// The (term, leader) in a slave's JSON answer (/status, or a 409 refusal), when it carries one that
// the LB's key proved (docs/PROTOCOL.md): only the coordinator's elections make terms, so a term
// without that proof is never adopted. `unproven`: the answer named a term without a valid proof.
struct SlaveStateReading {
    std::optional<coordination::LeaderState> state;
    bool unproven = false;
    std::optional<std::uint64_t> lease_nonce;
};
SlaveStateReading read_slave_state(const ControlKey& key, const std::string& body);

}  // namespace cdb::lb
