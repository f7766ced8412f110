#include "corpus.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cdb::test {

std::optional<Expectation> Expectation::parse(const std::string& text) {
    Expectation expectation;
    std::istringstream parts(text);
    std::string part;
    while (std::getline(parts, part, ',')) {
        if (expectation.closes) return std::nullopt;  // "close" comes last
        if (part == "close") {
            expectation.closes = true;
        } else if (part.size() == 3 && part.find_first_not_of("0123456789") == std::string::npos) {
            expectation.statuses.push_back(std::stoi(part));
        } else {
            return std::nullopt;
        }
    }
    if (expectation.statuses.empty() && !expectation.closes) return std::nullopt;
    return expectation;
}

std::string Expectation::str() const {
    std::string text;
    for (int status : statuses) text += (text.empty() ? "" : ",") + std::to_string(status);
    return closes ? text + (text.empty() ? "close" : ",close") : text;
}

bool Expectation::met_by(const RawExchange& exchange) const {
    return exchange.statuses == statuses && (!closes || exchange.closed_by_server);
}

std::string expand_repeats(const std::string& text) {
    std::string expanded;
    std::size_t at = 0;
    while (true) {
        const auto open = text.find("{{", at);
        const auto star = text.find('*', open);
        const auto close = text.find("}}", star);
        if (open == std::string::npos || star == std::string::npos || close == std::string::npos) break;
        expanded += text.substr(at, open - at);
        const std::string unit = text.substr(star + 1, close - star - 1);
        for (int count = std::stoi(text.substr(open + 2, star - open - 2)); count > 0; --count) expanded += unit;
        at = close + 2;
    }
    return expanded + text.substr(at);
}

std::vector<HostileRequest> load_corpus(const std::string& directory) {
    std::ifstream manifest(directory + "/manifest.txt");
    if (!manifest) throw std::runtime_error("cannot read " + directory + "/manifest.txt");
    std::vector<HostileRequest> corpus;
    std::string line;
    for (int number = 1; std::getline(manifest, line); ++number) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string name, slave, lb, pace;
        fields >> name >> slave >> lb >> pace;
        auto slave_expectation = Expectation::parse(slave);
        auto lb_expectation = Expectation::parse(lb);
        const bool known_pace = pace.empty() || pace == "trickle" || pace == "trickle-body";
        if (!slave_expectation || !lb_expectation || !known_pace) {
            throw std::runtime_error("manifest.txt line " + std::to_string(number) + " is not 'file slave lb [pace]'");
        }
        std::ifstream file(directory + "/corpus/" + name + ".http", std::ios::binary);
        if (!file) throw std::runtime_error("manifest.txt line " + std::to_string(number) + ": no corpus/" + name + ".http");
        std::ostringstream bytes;
        bytes << file.rdbuf();
        corpus.push_back({name, expand_repeats(bytes.str()), *slave_expectation, *lb_expectation,
                          pace == "trickle" ? Pace::byte_by_byte
                          : pace == "trickle-body" ? Pace::body_byte_by_byte
                                                   : Pace::at_once});
    }
    return corpus;
}

}  // namespace cdb::test
