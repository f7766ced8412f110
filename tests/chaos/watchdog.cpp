#include "watchdog.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>

namespace cdb::chaos {
namespace {

int wake_pipe[2] = {-1, -1};
constexpr char disarm = 0;

void on_signal(int number) {
    const char byte = static_cast<char>(number);
    [[maybe_unused]] auto written = ::write(wake_pipe[1], &byte, 1);
}

}  // namespace

Watchdog::Watchdog(std::chrono::seconds limit, Cleanup cleanup) : cleanup_(std::move(cleanup)) {
    if (::pipe(wake_pipe) != 0) std::perror("chaos: pipe");
    struct sigaction action {};
    action.sa_handler = on_signal;
    ::sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    thread_ = std::thread([this, limit] { watch(std::chrono::steady_clock::now() + limit, limit); });
}

Watchdog::~Watchdog() {
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    [[maybe_unused]] auto written = ::write(wake_pipe[1], &disarm, 1);
    thread_.join();
    ::close(wake_pipe[0]);
    ::close(wake_pipe[1]);
}

void Watchdog::watch(std::chrono::steady_clock::time_point deadline, std::chrono::seconds limit) {
    std::string why;
    while (why.empty()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            why = "the hard deadline of " + std::to_string(limit.count()) + " s has passed";
            break;
        }
        pollfd wake{wake_pipe[0], POLLIN, 0};
        if (::poll(&wake, 1, static_cast<int>(left.count())) <= 0) continue;
        char byte = disarm;
        if (::read(wake_pipe[0], &byte, 1) != 1) continue;
        if (byte == disarm) return;
        why = "interrupted by signal " + std::to_string(static_cast<int>(byte));
    }
    std::fprintf(stderr, "\nchaos: %s; cleaning up\n", why.c_str());
    cleanup_();
    std::fflush(stdout);
    ::_exit(3);
}

}  // namespace cdb::chaos
