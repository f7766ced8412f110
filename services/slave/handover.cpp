#include "handover.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include "cdb/probe.h"
#include "cdb/protocol.h"

namespace cdb::slave {
namespace {

using Clock = std::chrono::steady_clock;

// One request may take this long: a slow LB still gets several tries within the bound.
constexpr std::chrono::milliseconds attempt_bound{500};
// Between two requests while the hand-over is under way: a fraction of the lease wait it takes.
constexpr std::chrono::milliseconds ask_again_after{50};

// The LB's IPv4 address. getaddrinfo_a, not getaddrinfo: a resolver that does not answer must not
// hold the stop beyond its bound. `absent`: the name does not exist (no LB is deployed there).
std::optional<sockaddr_in> resolve(const std::string& host, int port, Clock::time_point deadline, bool& absent) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    gaicb request{};
    request.ar_name = host.c_str();
    request.ar_request = &hints;
    gaicb* requests[] = {&request};
    if (::getaddrinfo_a(GAI_NOWAIT, requests, 1, nullptr) != 0) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::max(deadline - Clock::now(), Clock::duration::zero()));
    const timespec wait{static_cast<time_t>(left.count() / 1000000000), static_cast<long>(left.count() % 1000000000)};
    const gaicb* const pending[] = {&request};
    ::gai_suspend(pending, 1, &wait);
    if (::gai_error(&request) == EAI_INPROGRESS && ::gai_cancel(&request) == EAI_NOTCANCELED) {
        // Still running: `request` lives on this stack, so wait for it; the process stops anyway.
        while (::gai_error(&request) == EAI_INPROGRESS) ::gai_suspend(pending, 1, nullptr);
    }
    absent = ::gai_error(&request) == EAI_NONAME;
    if (::gai_error(&request) != 0 || request.ar_result == nullptr) return std::nullopt;
    sockaddr_in address{};
    std::memcpy(&address, request.ar_result->ai_addr, sizeof address);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    ::freeaddrinfo(request.ar_result);
    return address;
}

std::int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Handover::Handover(const DeploymentConfig& config, const ControlKey& key)
    : index_(config.cluster.index.value_or(0)),
      lb_host_(config.handover.lb_host),
      lb_port_(config.handover.lb_port > 0 ? config.handover.lb_port : config.lb.port),
      timeout_(config.handover.timeout_ms),
      key_(key) {}

void Handover::add_routes(RouteTable& routes) {
    routes.exact("GET", protocol::handover_path, [this](const HttpRequest&, std::string_view) {
        return finished_ ? json_response(200, R"({"handed_over":true})")
                         : error_response(503, "not handed over (yet): this slave is not stopping, or still waits "
                                               "for the LB");
    });
}

bool Handover::run() {
    const auto deadline = Clock::now() + timeout_;
    bool handed_over = false;
    std::string problem = "no attempt within the bound";
    while (!handed_over && Clock::now() < deadline) {
        const auto attempt_deadline = std::min(deadline, Clock::now() + attempt_bound);
        bool absent = false;
        if (const auto address = resolve(lb_host_, lb_port_, attempt_deadline, absent)) {
            // Strictly growing, even within one millisecond or if the clock steps back a little: the LB
            // accepts each send time once (docs/PROTOCOL.md §10).
            last_sent_at_ms_ = std::max(wall_clock_ms(), last_sent_at_ms_ + 1);
            const std::string body = protocol::encode_leave_request(key_, {index_, last_sent_at_ms_});
            const auto bound = std::chrono::duration_cast<std::chrono::milliseconds>(attempt_deadline - Clock::now());
            const auto status =
                put_json(*address, protocol::leave_path, body, std::max(bound, std::chrono::milliseconds(1)), problem);
            if (status == protocol::leave_handed_over_status) {
                handed_over = true;
                break;
            }
            if (status && *status >= 400 && *status < 500) {
                // Asking again would get the same: a key or a clock that differs from the LB's.
                problem = "the LB refused the leave request with HTTP " + std::to_string(*status);
                break;
            }
            if (status) {
                problem = *status == protocol::leave_under_way_status ? "the LB was still moving the leadership"
                                                                       : "HTTP " + std::to_string(*status);
            }
            // No LB listens there (stopped first, as `./launch-env down` does, or between two runs):
            // no one could move the leadership, and a new LB recovers it from what it finds.
            if (!status && problem.find(std::strerror(ECONNREFUSED)) != std::string::npos) break;
        } else {
            problem = "cannot resolve " + lb_host_;
            if (absent) break;  // the name does not exist: no LB to ask, now or in a moment
        }
        std::this_thread::sleep_until(std::min(deadline, Clock::now() + ask_again_after));
    }
    if (handed_over) {
        spdlog::info("the LB moved the leadership off cluster {}: stopping", index_);
    } else if (timeout_.count() > 0) {
        spdlog::warn("stopping without the LB's hand-over ({}): if this cluster led, the LB elects after failed probes",
                     problem);
    }
    finished_ = true;
    return handed_over;
}

}  // namespace cdb::slave
