#pragma once
// Raw bytes over TCP to a local port, for what an HTTP client library would never send: broken
// framing, pipelining, byte-by-byte trickles.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace cdb::test {

enum class Pace {
    at_once,
    byte_by_byte,       // the whole request, one byte every 20 ms (slowloris)
    body_byte_by_byte,  // the head at once, then the body one byte every 20 ms
};

struct RawExchange {
    std::string received;
    std::vector<int> statuses;      // the status of each complete response, in order
    bool closed_by_server = false;  // end of stream or reset
    std::chrono::milliseconds elapsed{0};  // until the close, the awaited response or the end of `wait`
};

// Sends `bytes` and reads until the server closes, `wait` passes, or (when `responses` is given)
// that many complete responses have arrived.
RawExchange raw_exchange(int port, const std::string& bytes, std::chrono::milliseconds wait,
                         Pace pace = Pace::at_once, std::optional<std::size_t> responses = std::nullopt);

// Resident memory of a process in KiB, from /proc/PID/status (0 when it is gone).
long resident_kib(int pid);

}  // namespace cdb::test
