#include "forwarder.h"

#include <bitset>
#include <chrono>
#include <map>
#include <utility>

#include "cdb/json_builder.h"
#include "cdb/protocol.h"
#include "forward_rules.h"

namespace cdb::lb {
struct Forwarder::Exchange {
    std::shared_ptr<const RoutingView> view;
    std::string request_line;    // "POST /set HTTP/1.1\r\n"
    std::string leader_headers;  // the term, leader and proof of `view`
    std::string common_headers;  // everything after them, the blank line and the body included
    bool idempotent = false;
    const char* route = "";
    std::size_t next = 0;      // where the search for the next slave starts in view->ready
    std::bitset<protocol::max_clusters> tried;
    std::size_t attempts = 0;  // allowed
    std::size_t made = 0;
    std::string last_problem;
    bool restamped = false;  // carries a newer term than when it came in
    UpstreamLoop* loop = nullptr;  // of the server thread that took the request: every attempt runs there
    // Of the attempts made since the last (re)start: refused for lack of a lease; refused without
    // touching anything (no lease, stopping, a newer term).
    std::size_t refused_for_no_lease = 0;
    std::size_t refused_untouched = 0;
    std::chrono::steady_clock::time_point arrived;
    Reply reply;
};

namespace {
// Held requests at once, and their bytes (a body may be a whole value), at most: past either a
// refused request is answered at once, as before.
constexpr std::size_t max_held_requests = 4096;
constexpr std::size_t max_held_bytes = 64 * 1024 * 1024;

std::string leader_lines(const RoutingView& view) {
    std::string lines;
    lines.append(protocol::leader_term_header).append(": ").append(std::to_string(view.state.term));
    lines.append("\r\n").append(protocol::leader_header).append(": ").append(std::to_string(view.state.leader));
    lines.append("\r\n").append(protocol::leader_proof_header).append(": ").append(view.leader_proof).append("\r\n");
    return lines;
}
}  // namespace

Forwarder::Forwarder(UpstreamClient& upstreams, const ClusterAddresses& addresses, RoutingBoard& board,
                     ReportQueue& reports, Metrics& metrics, const ControlKey& key, int max_attempts,
                     std::chrono::milliseconds read_try_timeout, std::chrono::milliseconds lease_gap_hold)
    : max_attempts_(max_attempts),
      read_try_timeout_(read_try_timeout),
      lease_gap_hold_(lease_gap_hold),
      // Ejected for a second, then one request tries the slave again (its try deadline is the trial).
      outliers_(std::chrono::seconds(1), read_try_timeout),
      upstreams_(upstreams),
      addresses_(addresses),
      board_(board),
      reports_(reports),
      metrics_(metrics),
      key_(key) {
    metrics_.describe("requests_total", "counter", "Client data requests by route and status.");
    metrics_.describe("upstream_attempts_total", "counter", "Attempts to reach a slave by outcome.");
    metrics_.histogram("upstream_latency_seconds", "Time a slave took to answer a forwarded request.",
                       {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
    board_.listen([this](const RoutingView& previous, const RoutingView& next) { on_published(previous, next); });
}

Forwarder::~Forwarder() { board_.listen(nullptr); }

void Forwarder::add_routes(RouteTable& routes) {
    auto route = [this](const char* name) {
        return [this, name](const HttpRequest& request, Reply reply) { forward(request, name, std::move(reply)); };
    };
    routes.exact_async("GET", "/list-keys", route("list-keys"))
        .prefix_async("GET", "/get/", route("get"))
        .exact_async("POST", "/set", route("set"))
        .prefix_async("DELETE", "/delete/", route("delete"));
}

void Forwarder::answer(Exchange& exchange, const HttpResponse& response) {
    // The labels of a (route, status) pair, built once per thread: every request counts one.
    thread_local std::map<std::pair<const char*, int>, std::string> labels;
    auto [found, added] = labels.try_emplace({exchange.route, response.status});
    if (added) found->second = label("route", exchange.route) + "," + label("status", std::to_string(response.status));
    metrics_.add("requests_total", found->second);
    exchange.reply(response);
}

void Forwarder::forward(const HttpRequest& request, const char* route, Reply reply) {
    auto exchange = std::make_shared<Exchange>();
    exchange->route = route;
    exchange->reply = std::move(reply);
    exchange->arrived = std::chrono::steady_clock::now();
    exchange->loop = upstreams_.loop_of_this_thread();
    if (exchange->loop == nullptr) {
        return answer(*exchange, error_response(500, "internal error: a request was forwarded from outside the "
                                                     "server's threads"));
    }
    exchange->view = board_.current();
    const RoutingView& view = *exchange->view;
    if (view.ready.empty() || view.state.term == 0) {
        return answer(*exchange, error_response(503, view.state.term == 0 ? "no Redis-leader elected yet"
                                                                          : "no cluster is ready")
                                     .with_header("Retry-After", "1"));
    }
    // HttpServer refused control bytes in the target (a CR or LF would break out of the request line
    // written here); Pistache's header parsing leaves none in a value.
    std::string& line = exchange->request_line;
    line.append(request.method).append(" ").append(request.path);
    if (!request.raw_query.empty()) line.append("?").append(request.raw_query);
    line.append(" HTTP/1.1\r\n");
    std::string& headers = exchange->common_headers;
    exchange->leader_headers = leader_lines(view);
    headers.reserve(64 + request.body.size());
    if (auto content_type = request.header("content-type")) headers.append("Content-Type: ").append(*content_type).append("\r\n");
    headers.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n\r\n");
    headers.append(request.body);
    exchange->idempotent = request.method == "GET";
    exchange->next = next_++;
    exchange->attempts = std::min<std::size_t>(view.ready.size(), static_cast<std::size_t>(max_attempts_));
    attempt(std::move(exchange));
}

int Forwarder::next_slave(Exchange& exchange) {
    const std::vector<int>& ready = exchange.view->ready;
    const auto now = OutlierGuard::Clock::now();
    std::optional<std::size_t> fallback;
    for (std::size_t step = 0; step < ready.size(); ++step) {
        const std::size_t position = (exchange.next + step) % ready.size();
        const int slave = ready[position];
        if (exchange.tried.test(static_cast<std::size_t>(slave))) continue;
        if (outliers_.admits(slave, now)) {
            exchange.next = position + 1;
            return slave;
        }
        if (!fallback) fallback = position;
    }
    // Every untried slave is ejected: one of them all the same, rather than no answer at all.
    exchange.next = *fallback + 1;
    return ready[*fallback];
}

void Forwarder::attempt(std::shared_ptr<Exchange> exchange) {
    const RoutingView& view = *exchange->view;
    const int slave = next_slave(*exchange);
    exchange->tried.set(static_cast<std::size_t>(slave));
    ++exchange->made;
    UpstreamCall call;
    call.slave = slave;
    if (exchange->idempotent) call.deadline = read_try_timeout_;
    if (auto found = view.addresses.find(slave); found != view.addresses.end()) call.address = found->second;
    const Endpoint target = addresses_.slave(slave);
    call.request.reserve(exchange->request_line.size() + target.host.size() + exchange->leader_headers.size() +
                         exchange->common_headers.size() + 192);
    call.request.append(exchange->request_line).append("Host: ").append(target.host).append(":");
    call.request.append(std::to_string(target.port)).append("\r\n");
    if (auto grant = view.lease_grant_lines.find(slave); grant != view.lease_grant_lines.end()) {
        call.request.append(grant->second);
    }
    call.request.append(exchange->leader_headers).append(exchange->common_headers);
    call.done = [this, exchange, slave](UpstreamOutcome outcome) mutable {
        switch (conclude(*exchange, std::move(outcome), slave)) {
            case Next::answered: return;
            case Next::try_next_slave: return attempt(std::move(exchange));
            case Next::wait_for_a_lease: return hold(std::move(exchange));
        }
    };
    // A call submitted from the coordinator loop's thread (a held request going again) still runs,
    // and ends, on the request's own server thread.
    exchange->loop->submit(std::move(call));
}

void Forwarder::hold(std::shared_ptr<Exchange> exchange) {
    {
        std::lock_guard<std::mutex> lock(held_mutex_);
        const std::size_t bytes = exchange->common_headers.size();
        if (held_.size() < max_held_requests && held_bytes_ + bytes <= max_held_bytes) {
            held_bytes_ += bytes;
            held_.push_back(std::move(exchange));
            return;
        }
    }
    answer(*exchange, no_slave_could_serve(exchange->last_problem));
}

void Forwarder::on_published(const RoutingView& previous, const RoutingView& next) {
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<Exchange>> going;
    {
        std::lock_guard<std::mutex> lock(held_mutex_);
        if (held_.empty()) return;
        // New grants: a new term's first ones, or a renewal on a fresher nonce.
        const bool new_grants = next.state != previous.state || next.lease_grant_lines != previous.lease_grant_lines;
        for (auto it = held_.begin(); it != held_.end();) {
            const bool hold_over = now - (*it)->arrived >= lease_gap_hold_;
            if (new_grants || hold_over) {
                held_bytes_ -= (*it)->common_headers.size();
                going.push_back(std::move(*it));
                it = held_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& exchange : going) restart(std::move(exchange));
}

void Forwarder::restart(std::shared_ptr<Exchange> exchange) {
    auto current = board_.current();
    if (current->ready.empty() || current->state.term == 0) {
        return answer(*exchange, no_slave_could_serve(exchange->last_problem));
    }
    exchange->view = std::move(current);
    exchange->leader_headers = leader_lines(*exchange->view);
    exchange->tried.reset();
    exchange->made = 0;
    exchange->refused_for_no_lease = 0;
    exchange->refused_untouched = 0;
    exchange->attempts = std::min<std::size_t>(exchange->view->ready.size(), static_cast<std::size_t>(max_attempts_));
    attempt(std::move(exchange));
}

// A slave refused the request's term as stale: an election has just happened. The LB publishes a
// new term before it announces it, so the board has it by now, and the request's next attempts
// carry it, on any ready slave (those tried refused only the old term). Once per request. Without
// it, every slave that had the announcement refused the request, and a client got 503 "follows a
// newer leader term" at each planned move (issue 20).
void Forwarder::restamp(Exchange& exchange) {
    auto current = board_.current();
    if (exchange.restamped || current->state.term <= exchange.view->state.term || current->ready.empty()) return;
    exchange.view = std::move(current);
    exchange.leader_headers = leader_lines(*exchange.view);
    exchange.restamped = true;
    exchange.tried.reset();
    exchange.attempts =
        exchange.made + std::min<std::size_t>(exchange.view->ready.size(), static_cast<std::size_t>(max_attempts_));
}

Forwarder::Next Forwarder::conclude(Exchange& exchange, UpstreamOutcome outcome, int slave) {
    if (outcome.failure != UpstreamFailure::overloaded) {
        metrics_.observe("upstream_latency_seconds", std::chrono::duration<double>(outcome.elapsed).count());
    }
    if (outcome.failure == UpstreamFailure::timed_out) {
        outliers_.on_missed_deadline(slave, OutlierGuard::Clock::now());
    } else if (outcome.response) {
        outliers_.on_answer(slave);
    }
    AttemptVerdict verdict = judge_attempt(key_, slave, exchange.view->state.term, exchange.idempotent, outcome);
    if (verdict.report) reports_.push(std::move(*verdict.report));
    metrics_.add("upstream_attempts_total", label("outcome", verdict.outcome));
    exchange.last_problem = std::move(verdict.problem);
    if (!verdict.answer && verdict.outcome == stale_term_outcome) restamp(exchange);
    if (verdict.outcome == no_lease_outcome) ++exchange.refused_for_no_lease;
    if (!verdict.answer && verdict.untouched) ++exchange.refused_untouched;
    if (!verdict.answer && exchange.made >= exchange.attempts) {
        // A leader is moving: the slaves that could serve lack a lease for now, the others stop or
        // moved on to the new term. Nothing was touched anywhere, so the request may wait.
        const bool waits_for_a_lease =
            exchange.refused_for_no_lease > 0 && exchange.refused_untouched == exchange.made;
        if (waits_for_a_lease && std::chrono::steady_clock::now() - exchange.arrived < lease_gap_hold_) {
            return Next::wait_for_a_lease;
        }
        verdict.answer = no_slave_could_serve(exchange.last_problem);
    }
    if (!verdict.answer) return Next::try_next_slave;
    answer(exchange, *verdict.answer);
    return Next::answered;
}

}  // namespace cdb::lb
