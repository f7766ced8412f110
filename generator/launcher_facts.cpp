#include "launcher_facts.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

#include "kind_writer.hpp"

namespace gen {
namespace {

using Facts = std::vector<std::pair<std::string, std::string>>;

bool shell_safe(const std::string& value) {
    if (value.empty()) return false;
    for (const char ch : value) {
        const bool safe = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                          std::string("._/:-").find(ch) != std::string::npos;
        if (!safe) return false;
    }
    return true;
}

std::string image(const Values& values, const std::string& which) {
    return values.string("images." + which) + ":" + values.string("images.tag");
}

Facts kind_facts(const Values& values) {
    return {
        {"NAMESPACE", values.string("kind.namespace")},
        {"REDIS_AUTH_SECRET", values.string("kind.redisAuthSecret")},
        {"SLAVE_STATEFULSET", slave_stateful_set_name},
        {"LB_DEPLOYMENT", lb_deployment_name},
        {"LB_SERVICE", lb_service_name},
        {"LB_SERVICE_PORT", std::to_string(values.integer("lb.servicePort"))},
        {"SLAVE_IMAGE", image(values, "slave")},
        {"LB_IMAGE", image(values, "lb")},
    };
}

Facts compose_facts(const Values& values) {
    return {
        {"LB_ADDRESS", values.string("lb.publish.address")},
        {"LB_PORT", std::to_string(values.integer("lb.publish.port"))},
        {"SLAVE_IMAGE", image(values, "slave")},
        {"LB_IMAGE", image(values, "lb")},
    };
}

}  // namespace

std::string launcher_facts(const Values& values, Target target) {
    std::string lines;
    for (const auto& [name, value] : target == Target::kind ? kind_facts(values) : compose_facts(values)) {
        // The value rules already allow nothing else; a rule loosened later must not open a shell hole.
        if (!shell_safe(value)) throw std::logic_error("generator bug: fact " + name + " is not shell-safe: " + value);
        lines += name + "=" + value + "\n";
    }
    return lines;
}

}  // namespace gen
