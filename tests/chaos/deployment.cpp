#include "deployment.h"

#include <fstream>
#include <sstream>

namespace cdb::chaos {

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
