#pragma once
#include <optional>
#include <string>

#include "cdb/coordination/events.h"

namespace cdb::lb {
// The (term, leader) in a slave's JSON answer (/status, or a 409 refusal), if it carries one.
std::optional<coordination::LeaderState> parse_slave_state(const std::string& body);
}  // namespace cdb::lb
