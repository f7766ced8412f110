#pragma once
// The hostile requests of tests/hostile/corpus and what each must get (manifest.txt).
#include <optional>
#include <string>
#include <vector>

#include "raw_http.h"

namespace cdb::test {

// What the server must do: answer these statuses in order, and close the connection when `closes`.
struct Expectation {
    std::vector<int> statuses;
    bool closes = false;

    static std::optional<Expectation> parse(const std::string& text);  // "400,close", "200,200", "close"
    std::string str() const;
    bool met_by(const RawExchange& exchange) const;
};

struct HostileRequest {
    std::string name;
    std::string bytes;  // with {{N*text}} expanded
    Expectation slave;
    Expectation lb;
    Pace pace = Pace::at_once;
};

// Reads manifest.txt and the corpus files of `directory`; throws naming the line or file it cannot read.
std::vector<HostileRequest> load_corpus(const std::string& directory);

// {{N*text}} stands for `text` N times, so that megabyte requests need no megabyte files.
std::string expand_repeats(const std::string& text);

}  // namespace cdb::test
