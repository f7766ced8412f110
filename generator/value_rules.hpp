#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "values.hpp"

namespace gen {

// What a key outside `config.*` accepts beyond its type. `pattern` names keys with `*` standing for one path segment;
// the first rule whose pattern matches a key applies to it.
struct ValueRule {
    std::string pattern;
    std::string allowed;  // reads after "must be": "an integer from 1 to 65535"
    std::function<bool(const Value&)> accepts;
};

const std::vector<ValueRule>& value_rules();

// The rule of `key`, or nullptr when it has none.
const ValueRule* rule_for(const std::string& key);

// What `key` accepts beyond its type ("an integer from 1 to 65535"), or nothing when only its type
// is checked. A `config.*` key accepts what the services' schema says.
std::optional<std::string> accepted_values(const std::string& key);

// Why `value` is not acceptable for `key` ("must be ..., got ..."), or nothing when it is. A
// `config.*` value is refused in the services' own words.
std::optional<std::string> rule_violation(const std::string& key, const Value& value);

}  // namespace gen
