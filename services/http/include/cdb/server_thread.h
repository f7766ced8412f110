#pragma once
// Lets a service drive its own non-blocking sockets from the HTTP server's threads, so that a
// request and the I/O it causes stay on one thread, as in an nginx worker: no hand-over to another
// thread, no wake-up of one (about a tenth of the LB's CPU per GET on 2 cores, docs/BENCHMARKS.md).
#include <functional>

namespace cdb {

class ServerThread {
public:
    virtual ~ServerThread() = default;
    // From now on, runs `on_readable` on this thread whenever `descriptor` is readable
    // (level-triggered), until the server stops. The descriptor must outlive the server.
    virtual void watch(int descriptor, std::function<void()> on_readable) = 0;
};

// The HTTP server thread running the caller, or nullptr on any other thread.
ServerThread* current_server_thread();

}  // namespace cdb
