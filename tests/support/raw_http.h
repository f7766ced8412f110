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

// One connection to 127.0.0.1:port. Each send leaves at once, in its own segments (TCP_NODELAY):
// how the bytes are cut is part of what a raw test sends.
class RawConnection {
public:
    // `receive_buffer` (SO_RCVBUF, before connecting): how much of what the server sends the kernel
    // takes for a client that does not read, as over a slow link; the system's default otherwise.
    explicit RawConnection(int port, std::optional<int> receive_buffer = std::nullopt);
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    bool connected() const { return connected_; }
    // Sends what the peer accepts within `timeout`; a peer that closes early just ends the sending.
    void send(const char* bytes, std::size_t size, std::chrono::milliseconds timeout);
    // Reads what arrives within `timeout` into `received`; false once the peer closed or reset.
    bool receive(std::chrono::milliseconds timeout);
    // The status of the next whole response, read within `timeout`; nullopt without one.
    std::optional<int> next_status(std::chrono::milliseconds timeout);
    const std::string& received() const { return received_; }

private:
    int fd_;
    bool connected_ = false;
    std::string received_;
    std::size_t statuses_taken_ = 0;
};

// Resident memory of a process in KiB, from /proc/PID/status (0 when it is gone).
long resident_kib(int pid);

}  // namespace cdb::test
