#include "deployment.h"

#include <fstream>
#include <sstream>

namespace cdb::chaos {

std::string to_string(const Part& part) {
    switch (part.kind) {
        case Part::Kind::slave: return "the slave of cluster " + std::to_string(part.index);
        case Part::Kind::redis: return "the Redis of cluster " + std::to_string(part.index);
        case Part::Kind::lb: return "the LB";
    }
    return "unknown part";
}

bool process_alive(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    const auto state_at = line.rfind(')');
    return state_at != std::string::npos && state_at + 2 < line.size() && line[state_at + 2] != 'Z';
}

std::map<std::string, std::string> environment_from(const std::string& text, char separator) {
    std::map<std::string, std::string> env;
    std::istringstream in(text);
    std::string entry;
    while (std::getline(in, entry, separator)) {
        const auto equals = entry.find('=');
        if (equals != std::string::npos) env[entry.substr(0, equals)] = entry.substr(equals + 1);
    }
    return env;
}

}  // namespace cdb::chaos
