#include "deployment.h"

#include <sstream>

namespace cdb::chaos {

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
