#pragma once
// How a slave stops without failing a client (docs/PROTOCOL.md §3). From the stop signal on, every
// data request and the LB's /status probe get "stopping" (503 with X-Retry-Elsewhere), on which the
// LB ejects this slave at once. The server closes only once such an answer has gone out and no
// request has come for a quiet period: the LB has stopped routing here, so no request of its is sent
// into a socket that is about to close (which would leave a write's outcome unknown).
#include <atomic>
#include <chrono>

#include "cdb/http_types.h"

namespace cdb::slave {

class Drain {
public:
    using Clock = std::chrono::steady_clock;

    void begin();
    bool stopping() const { return stopping_; }

    // Holds a data request in flight from before it is handled until its answer is built, even when
    // a handler throws.
    class Request {
    public:
        explicit Request(Drain& drain);
        ~Request();
        Request(const Request&) = delete;
        Request& operator=(const Request&) = delete;

    private:
        Drain& drain_;
    };

    // The answer to the LB while stopping (a forwarded request or its /status probe): 503 with
    // X-Retry-Elsewhere, closing the connection; nothing was touched. Notes that the LB was told.
    HttpResponse tell_lb();

    // Blocks until the LB has been told, nothing is in flight and nothing has come for `quiet`; or
    // until `longest` has passed since begin(). Returns whether the drain completed.
    bool wait(std::chrono::milliseconds quiet, std::chrono::milliseconds longest) const;

private:
    std::atomic<bool> stopping_{false};
    std::atomic<bool> told_lb_{false};
    std::atomic<int> in_flight_{0};
    std::atomic<Clock::rep> began_{0};
    std::atomic<Clock::rep> last_request_{0};
};

}  // namespace cdb::slave
