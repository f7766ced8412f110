#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "values.hpp"

namespace gen {

// What a key accepts beyond its type. `pattern` names keys with `*` standing for one path segment;
// the first rule whose pattern matches a key applies to it.
struct ValueRule {
    std::string pattern;
    std::string allowed;  // reads after "must be": "an integer from 1 to 65535"
    std::function<bool(const Value&)> accepts;
};

const std::vector<ValueRule>& value_rules();

// The rule of `key`, or nullptr when only its type is checked.
const ValueRule* rule_for(const std::string& key);

// Why `value` is not acceptable for `key` ("must be ..."), or nothing when it is.
std::optional<std::string> rule_violation(const std::string& key, const Value& value);

}  // namespace gen
