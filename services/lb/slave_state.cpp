#include "slave_state.h"

#include <rapidjson/document.h>

#include "cdb/json_input.h"

namespace cdb::lb {

std::optional<coordination::LeaderState> parse_slave_state(const std::string& body) {
    rapidjson::Document document;
    if (parse_json_input(document, body) || !document.IsObject()) return std::nullopt;
    auto term = document.FindMember("term");
    auto leader = document.FindMember("leader");
    if (term == document.MemberEnd() || !term->value.IsInt64() || leader == document.MemberEnd() ||
        !leader->value.IsInt()) {
        return std::nullopt;
    }
    return coordination::LeaderState{term->value.GetInt64(), leader->value.GetInt()};
}

}  // namespace cdb::lb
