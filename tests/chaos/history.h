#pragma once
// What the chaos run saw: every client operation with its times and result, and the final read of
// every key. Times are microseconds since the run started, taken by the client around the request.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cdb::chaos {

using Micros = std::int64_t;

// How a request ended: an HTTP status, or no answer at all (`status` 0, `transport` says why).
struct Outcome {
    int status = 0;
    std::string transport;

    bool ok() const { return status >= 200 && status < 300; }
    std::string kind() const;  // "200", "503", "no answer: Read"...
};

struct Write {
    std::string key;
    std::string value;  // unique per write in a run
    Micros start = 0;
    Micros end = 0;
    Outcome outcome;
    std::string replication;  // X-Replication of an acknowledged write: synced, degraded, async, none

    bool acknowledged() const { return outcome.ok(); }
    // Only a synced write is promised to survive the loss of any one cluster (docs/PROTOCOL.md §4).
    bool synced() const { return acknowledged() && replication == "synced"; }
};

struct Read {
    std::string key;
    Micros start = 0;
    Micros end = 0;
    Outcome outcome;
    std::optional<std::string> value;  // with a 200; a 404 is the key being absent
};

struct History {
    std::vector<Write> writes;
    std::vector<Read> reads;
};

// The value of a key once the run is over and the system is ready again.
struct FinalRead {
    std::string key;
    bool answered = false;  // 200 or 404; otherwise the key could not be checked
    std::optional<std::string> value;
};

}  // namespace cdb::chaos
