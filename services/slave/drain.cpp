#include "drain.h"

#include <thread>

#include "cdb/protocol.h"

namespace cdb::slave {

void Drain::begin() {
    const auto now = Clock::now().time_since_epoch().count();
    began_ = now;
    last_request_ = now;
    stopping_ = true;
}

Drain::Request::Request(Drain& drain) : drain_(drain) {
    ++drain_.in_flight_;
    drain_.last_request_ = Clock::now().time_since_epoch().count();
}

Drain::Request::~Request() { --drain_.in_flight_; }

HttpResponse Drain::tell_lb() {
    // The quiet period starts when the LB is first told: what it routed here just before must still
    // find the server open.
    if (!told_lb_.exchange(true)) last_request_ = Clock::now().time_since_epoch().count();
    HttpResponse response = error_response(503, "this slave is stopping; retry on another one")
                                .with_header("Retry-After", "1")
                                .with_header(protocol::retry_elsewhere_header, protocol::stopping_reason);
    response.close_connection = true;
    return response;
}

bool Drain::wait(std::chrono::milliseconds quiet, std::chrono::milliseconds longest) const {
    const auto deadline = Clock::time_point(Clock::duration(began_.load())) + longest;
    while (Clock::now() < deadline) {
        const auto last = Clock::time_point(Clock::duration(last_request_.load()));
        if (told_lb_ && in_flight_ == 0 && Clock::now() - last >= quiet) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

}  // namespace cdb::slave
