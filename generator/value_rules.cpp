#include "value_rules.hpp"

#include <climits>
#include <regex>
#include <sstream>

#include "service_config.hpp"

namespace gen {
namespace {

bool pattern_matches(const std::string& pattern, const std::string& key) {
    std::istringstream pattern_parts(pattern);
    std::istringstream key_parts(key);
    std::string want;
    std::string have;
    while (std::getline(pattern_parts, want, '.')) {
        if (!std::getline(key_parts, have, '.')) return false;
        if (want != "*" && want != have) return false;
    }
    return !std::getline(key_parts, have, '.');
}

ValueRule integer_range(std::string pattern, long long min, long long max) {
    std::string allowed = max == INT_MAX ? "an integer of at least " + std::to_string(min)
                                         : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    return {std::move(pattern), std::move(allowed), [min, max](const Value& value) {
                if (value.type != ValueType::integer) return false;
                const long long number = std::stoll(value.text);
                return number >= min && number <= max;
            }};
}

ValueRule port(std::string pattern) { return integer_range(std::move(pattern), 1, 65535); }

ValueRule one_of(std::string pattern, std::vector<std::string> choices) {
    std::string allowed = "one of";
    for (const std::string& choice : choices) allowed += (allowed == "one of" ? " " : ", ") + choice;
    return {std::move(pattern), std::move(allowed), [choices](const Value& value) {
                for (const std::string& choice : choices) {
                    if (value.text == choice) return true;
                }
                return false;
            }};
}

ValueRule matching(std::string pattern, const std::string& regex, std::string allowed) {
    const std::regex compiled(regex);
    return {std::move(pattern), std::move(allowed),
            [compiled](const Value& value) { return std::regex_match(value.text, compiled); }};
}

std::vector<ValueRule> make_rules() {
    // Kubernetes label values and DNS labels: both also end up in object names or selectors.
    const std::string dns_label = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";
    const std::string quantity = "[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?";
    return {
        matching("images.tag", "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "a Docker tag (letters, digits, _ . -)"),
        one_of("images.pullPolicy", {"Always", "IfNotPresent", "Never"}),
        matching("images.*", "[a-z0-9][a-z0-9._/:-]*", "an image repository without tag (lower case)"),
        matching("cluster.hostTemplate.*", "[A-Za-z0-9.-]*\\{i\\}[A-Za-z0-9.-]*",
                 "a host name containing {i}, such as slave-{i}"),
        matching("lb.publish.address", "([0-9]{1,3}\\.){3}[0-9]{1,3}", "an IPv4 address such as 127.0.0.1"),
        port("lb.publish.port"),
        port("lb.servicePort"),
        matching("redis.maxmemory", "[0-9]+([kKmMgG][bB]?|[bB])?", "a Redis memory size such as 256mb"),
        integer_range("probes.startPeriodSeconds", 0, 3600),
        integer_range("probes.*", 1, 3600),
        integer_range("stopGraceSeconds", 1, 300),
        matching("compose.network", "[a-zA-Z0-9][a-zA-Z0-9_.-]*", "a network name (letters, digits, _ . -)"),
        matching("compose.publishNetwork", "[a-zA-Z0-9][a-zA-Z0-9_.-]*", "a network name (letters, digits, _ . -)"),
        matching("compose.envFile", "[^\\n]+", "a file path, or ${VARIABLE} for Compose to fill in"),
        integer_range("compose.healthcheckIntervalSeconds", 1, 3600),
        matching("compose.tmpfsSize", "[0-9]+[kmg]?", "a size such as 512m"),
        matching("kind.redisAuthSecret", dns_label, "a DNS label (lower case letters, digits, -; at most 63)"),
        one_of("compose.restart", {"no", "always", "on-failure", "unless-stopped"}),
        matching("kind.namespace", dns_label, "a DNS label (lower case letters, digits, -; at most 63)"),
        matching("kind.instance", dns_label, "a DNS label (lower case letters, digits, -; at most 63)"),
        matching("resources.*.*.*", quantity, "a Kubernetes quantity such as 100m, 1 or 64Mi"),
    };
}

}  // namespace

const std::vector<ValueRule>& value_rules() {
    static const std::vector<ValueRule> rules = make_rules();
    return rules;
}

const ValueRule* rule_for(const std::string& key) {
    for (const ValueRule& rule : value_rules()) {
        if (pattern_matches(rule.pattern, key)) return &rule;
    }
    return nullptr;
}

std::optional<std::string> accepted_values(const std::string& key) {
    if (const cdb::ConfigField* field = service_field(key)) return cdb::accepted_values(*field);
    if (const ValueRule* rule = rule_for(key)) return rule->allowed;
    return std::nullopt;
}

std::optional<std::string> rule_violation(const std::string& key, const Value& value) {
    if (const cdb::ConfigField* field = service_field(key)) return cdb::value_refusal(*field, value.text);
    const ValueRule* rule = rule_for(key);
    if (rule == nullptr || rule->accepts(value)) return std::nullopt;
    return "must be " + rule->allowed + ", got \"" + value.text + "\"";
}

}  // namespace gen
