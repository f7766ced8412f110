// gray_bench: one row of the gray-failure matrix (bench/run.sh, SECTIONS=gray; docs/BENCHMARKS.md).
// Keep-alive clients GET one key through the LB; after 2 s one process is frozen (SIGSTOP) or held
// to a share of one core (a cgroup, tests/support/cpu_throttle.h) for the given time, then released,
// and the load goes on 2 s more. It injects the fault itself so that the fault's onset, and the
// answers counted after it, are timed on the clock that times the requests.
//
//   gray_bench LB_PORT PID stop|throttle|none SECONDS CLIENTS KEY
//
// `none` injects nothing (PID is ignored): the same load and timeline on the same machine, the row
// that tells a fault's effect from the machine's own noise. Prints one line, "RESULT reads=...
// failed=... slowest_ms=... slow=... slowest_after_onset_ms=... failures=KIND:COUNT,...
// failed_from_ms=... failed_to_ms=..." (when the first and last failed read ended, from the fault's
// start), and the failed answers on stderr. Exit status 0, 1 when the fault could
// not be injected, 2 on bad arguments, 3 when throttling is impossible here (the line says why).
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "cpu_throttle.h"
#include "read_load.h"

namespace {

using namespace std::chrono_literals;

constexpr auto before_fault = 2s;
constexpr auto after_fault = 2s;
// The requests in flight to a process when it freezes may take their try deadline and a second try
// (tests/integration/gray_failure_test.cpp): the issue counts slow answers after this.
constexpr auto fault_onset = 250ms;
constexpr int throttle_percent = 5;

sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int number : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, number);
    return set;
}

// Sleeps `time`, or less when the bench is told to stop: then it still undoes its fault.
bool wait_unless_stopped(std::chrono::milliseconds time) {
    const sigset_t set = stop_signals();
    timespec wait{static_cast<time_t>(time.count() / 1000), static_cast<long>(time.count() % 1000) * 1000000};
    while (true) {
        const int got = sigtimedwait(&set, nullptr, &wait);
        if (got > 0) return false;
        if (got < 0 && errno == EAGAIN) return true;
        // EINTR (another signal): sigtimedwait does not say how long is left; rare enough to wait again.
    }
}

int usage() {
    std::fprintf(stderr, "usage: gray_bench LB_PORT PID stop|throttle|none SECONDS CLIENTS KEY\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 7) return usage();
    const int port = std::atoi(argv[1]);
    const pid_t pid = std::atoi(argv[2]);
    const std::string fault = argv[3];
    const int seconds = std::atoi(argv[4]), clients = std::atoi(argv[5]);
    const bool known = fault == "stop" || fault == "throttle" || fault == "none";
    if (port <= 0 || !known || (fault != "none" && pid <= 1) || seconds <= 0 || clients <= 0) return usage();
    if (fault == "throttle") {
        if (auto why = cdb::test::CpuThrottle::unavailable()) {
            std::printf("RESULT unavailable=\"%s\"\n", why->c_str());
            return 3;
        }
    }
    // Blocked in every thread (the clients inherit the mask), so only wait_unless_stopped takes them.
    const sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    cdb::test::ReadLoad load(port, clients, argv[6]);
    cdb::test::CpuThrottle throttle;
    bool running = wait_unless_stopped(before_fault);
    std::optional<std::string> problem;
    const auto fault_start = std::chrono::steady_clock::now();
    if (running) {
        if (fault == "stop") {
            if (::kill(pid, SIGSTOP) != 0) problem = "cannot stop PID " + std::to_string(pid);
        } else if (fault == "throttle") {
            problem = throttle.limit(pid, throttle_percent);
        }
    }
    if (running && !problem) {
        running = wait_unless_stopped(fault_onset);
        load.restart_slowest();
        if (running) running = wait_unless_stopped(std::chrono::seconds(seconds) - fault_onset);
    }
    if (fault == "stop") ::kill(pid, SIGCONT);
    if (auto error = throttle.release(); error && !problem) problem = "releasing the throttle: " + *error;
    if (running) wait_unless_stopped(after_fault);
    load.stop();

    std::string kinds;
    for (const auto& [kind, count] : load.failures_by_kind()) {
        std::string name = kind;  // "no answer: Read": the line's fields are separated by spaces
        std::replace(name.begin(), name.end(), ' ', '_');
        kinds += (kinds.empty() ? "" : ",") + name + ":" + std::to_string(count);
    }
    const auto from_fault = [&](const auto& at) {
        if (!at) return std::string("-");
        return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(*at - fault_start).count());
    };
    std::printf("RESULT reads=%d failed=%d slowest_ms=%lld slow=%d slowest_after_onset_ms=%lld failures=%s "
                "failed_from_ms=%s failed_to_ms=%s\n",
                load.reads(), load.failures(), load.slowest_overall_ms(), load.slow_answers(), load.slowest_ms(),
                kinds.empty() ? "-" : kinds.c_str(), from_fault(load.first_failure()).c_str(),
                from_fault(load.last_failure()).c_str());
    std::fprintf(stderr, "%s\n", load.summary().c_str());
    if (problem) {
        std::fprintf(stderr, "gray_bench: %s\n", problem->c_str());
        return 1;
    }
    return running ? 0 : 130;
}
