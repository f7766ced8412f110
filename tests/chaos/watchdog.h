#pragma once
// Bounds a chaos run: at the hard deadline, or on SIGINT/SIGTERM, it runs `cleanup` (resume what is
// frozen, stop the system) and ends the process with status 3. Signals reach it through a pipe, so
// the handler does nothing but write(); the services the run launches get default handlers back
// at exec, unlike a blocked signal mask, which they would inherit.
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace cdb::chaos {

class Watchdog {
public:
    using Cleanup = std::function<void()>;

    Watchdog(std::chrono::seconds limit, Cleanup cleanup);
    ~Watchdog();  // disarms it
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

private:
    void watch(std::chrono::steady_clock::time_point deadline, std::chrono::seconds limit);

    Cleanup cleanup_;
    std::thread thread_;
};

}  // namespace cdb::chaos
