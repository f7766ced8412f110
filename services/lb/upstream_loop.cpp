#include "upstream_loop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <queue>
#include <stdexcept>
#include <unordered_map>

#include "cdb/server_thread.h"

namespace cdb::lb {

using Clock = std::chrono::steady_clock;

struct UpstreamLoop::Connection {
    enum class Phase { connecting, sending, waiting, idle };

    int fd = -1;
    int slave = 0;
    std::optional<SocketAddress> address;
    Phase phase = Phase::connecting;
    std::uint32_t watched = 0;  // the epoll events registered for fd
    std::uint64_t generation = 0;  // which call a deadline belongs to
    std::string request;
    std::size_t written = 0;
    std::optional<HttpResponseReader> reader;
    std::function<void(UpstreamOutcome)> done;
    Clock::time_point started;
    std::chrono::milliseconds deadline{0};  // of the call in progress, from `started`
};

struct UpstreamLoop::Deadline {
    Clock::time_point at;
    int fd;
    std::uint64_t generation;
    bool operator>(const Deadline& other) const { return at > other.at; }
};

struct UpstreamLoop::State {
    std::unordered_map<int, std::unique_ptr<Connection>> connections;  // by fd
    std::unordered_map<int, std::vector<int>> idle;                     // slave -> fds, newest last
    std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines;
    bool timer_armed = false;
    Clock::time_point timer_at;
    std::uint64_t next_generation = 1;
    std::size_t answer_bytes_this_turn = 0;  // of the answers waiting in this turn's completions
};

namespace {

std::string errno_text(int error) { return std::strerror(error); }

// Refused by this LB before anything was sent.
UpstreamOutcome refusal(std::string problem) {
    UpstreamOutcome refused;
    refused.failure = UpstreamFailure::overloaded;
    refused.problem = std::move(problem);
    return refused;
}

constexpr const char* stopping_problem = "the load balancer is stopping";

}  // namespace

UpstreamLoop::UpstreamLoop(UpstreamLimits limits) : limits_(limits), state_(std::make_unique<State>()) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0 || timer_fd_ < 0) throw std::runtime_error("upstream loop: " + errno_text(errno));
    for (int fd : {wake_fd_, timer_fd_}) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
    }
}

UpstreamLoop::~UpstreamLoop() {
    for (const auto& [fd, connection] : state_->connections) ::close(fd);
    ::close(timer_fd_);
    ::close(wake_fd_);
    ::close(epoll_fd_);
}

void UpstreamLoop::run_completions(Completions& done) {
    for (auto& [callback, outcome] : done) callback(std::move(outcome));
    done.clear();
}

void UpstreamLoop::submit(UpstreamCall call) {
    if (stopping_) return call.done(refusal(stopping_problem));
    if (driver_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
        Completions done;
        start(std::move(call), done);
        run_completions(done);
        return;
    }
    std::unique_lock<std::mutex> lock(queue_mutex_);
    // Checked again under the lock: the driver takes the queue a last time once it has seen the stop.
    if (stopping_ || queued_.size() >= limits_.max_queued) {
        lock.unlock();
        return call.done(refusal(stopping_ ? stopping_problem : "too many requests waiting for a slave"));
    }
    const bool was_empty = queued_.empty();
    queued_.push_back(std::move(call));
    lock.unlock();
    // One wake-up per batch: the driver takes the whole queue.
    if (was_empty) {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
    }
}

void UpstreamLoop::stop() {
    if (stopping_.exchange(true)) return;
    if (driver_.load() == std::thread::id{} || driver_.load() == std::this_thread::get_id()) {
        // Never driven, or stopped by its driver: nothing runs it but this thread.
        Completions done;
        close_all(done);
        stopped_ = true;
        run_completions(done);
        return;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
    const auto give_up = Clock::now() + std::chrono::seconds(1);
    while (!stopped_ && Clock::now() < give_up) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!stopped_) spdlog::warn("the server thread driving an upstream loop did not stop its calls within 1 s");
}

void UpstreamLoop::drive_from_this_thread() { driver_.store(std::this_thread::get_id()); }

void UpstreamLoop::run_ready() {
    epoll_event events[256];
    Completions done;
    const int count = ::epoll_wait(epoll_fd_, events, 256, 0);
    bool woken = false;  // calls from other threads wait, or the loop must stop
    // Every answer completed in this turn is held until its end: 300 clients reading a 1 MiB value
    // made one turn hold 129 MiB. The events left once the turn's answers reach the limit are
    // reported again by the level-triggered epoll set, and the reactor comes back for them.
    state_->answer_bytes_this_turn = 0;
    for (int i = 0; i < count && state_->answer_bytes_this_turn < limits_.max_answer_bytes_per_turn; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wake_fd_ || fd == timer_fd_) {
            std::uint64_t ignored;
            [[maybe_unused]] auto drained = ::read(fd, &ignored, sizeof ignored);
            if (fd == timer_fd_) state_->timer_armed = false;
            woken = woken || fd == wake_fd_;
            continue;
        }
        if (stopped_) continue;
        auto found = state_->connections.find(fd);
        if (found != state_->connections.end()) on_event(*found->second, events[i].events, done);
    }
    if (stopped_) return;
    if (woken) {
        std::vector<UpstreamCall> calls;
        {
            std::lock_guard<std::mutex> lock(queue_mutex_);
            calls.swap(queued_);
        }
        for (auto& call : calls) start(std::move(call), done);
    }
    expire_deadlines(done);
    if (woken && stopping_) {
        close_all(done);
        stopped_ = true;
    }
    run_completions(done);
}

void UpstreamLoop::close_all(Completions& done) {
    std::vector<UpstreamCall> calls;
    {
        std::lock_guard<std::mutex> lock(queue_mutex_);
        calls.swap(queued_);
    }
    for (auto& call : calls) {
        done.emplace_back(std::move(call.done), refusal(stopping_problem));
    }
    std::vector<int> open;
    for (const auto& [fd, connection] : state_->connections) open.push_back(fd);
    for (int fd : open) {
        auto& connection = *state_->connections.at(fd);
        if (connection.phase == Connection::Phase::idle) {
            close(connection);
        } else {
            fail(connection, UpstreamFailure::no_answer, stopping_problem, done);
        }
    }
    state_->idle.clear();
}

// The timer is set for the earliest deadline but never less than 10 ms ahead: the deadlines of
// answered calls stay in the queue until due, and under load one is due every few microseconds.
void UpstreamLoop::add_deadline(Clock::time_point at, int fd, std::uint64_t generation) {
    const bool earliest = state_->deadlines.empty() || at < state_->deadlines.top().at;
    state_->deadlines.push({at, fd, generation});
    if (!earliest || (state_->timer_armed && state_->timer_at <= at)) return;
    const auto fire_at = std::max(at, Clock::now() + std::chrono::milliseconds(10));
    const auto in = std::chrono::duration_cast<std::chrono::nanoseconds>(fire_at - Clock::now()).count();
    itimerspec spec{};
    spec.it_value.tv_sec = in / 1000000000;
    spec.it_value.tv_nsec = std::max<long long>(in % 1000000000, 1);
    ::timerfd_settime(timer_fd_, 0, &spec, nullptr);
    state_->timer_armed = true;
    state_->timer_at = fire_at;
}

void UpstreamLoop::expire_deadlines(Completions& done) {
    const auto now = Clock::now();
    while (!state_->deadlines.empty() && state_->deadlines.top().at <= now) {
        const Deadline due = state_->deadlines.top();
        state_->deadlines.pop();
        auto found = state_->connections.find(due.fd);
        if (found == state_->connections.end() || found->second->generation != due.generation) continue;
        Connection& connection = *found->second;
        switch (connection.phase) {
            case Connection::Phase::connecting:
                fail(connection, UpstreamFailure::connect_timeout,
                     "no connection within " + std::to_string(limits_.connect.count()) + " ms", done);
                break;
            case Connection::Phase::sending:
                fail(connection, UpstreamFailure::send_failed, "the request could not be sent in time", done);
                break;
            case Connection::Phase::waiting:
                fail(connection, UpstreamFailure::timed_out,
                     "no answer within " + std::to_string(connection.deadline.count()) + " ms", done);
                break;
            case Connection::Phase::idle: break;
        }
    }
    if (!state_->timer_armed && !state_->deadlines.empty()) {
        const Deadline next = state_->deadlines.top();
        state_->deadlines.pop();
        add_deadline(next.at, next.fd, next.generation);
    }
}

UpstreamLoop::Connection* UpstreamLoop::take_idle(int slave, const SocketAddress& address) {
    auto found = state_->idle.find(slave);
    if (found == state_->idle.end()) return nullptr;
    auto& fds = found->second;
    while (!fds.empty()) {
        const int fd = fds.back();
        fds.pop_back();
        Connection& connection = *state_->connections.at(fd);
        if (connection.address == address) return &connection;
        close(connection);  // the slave's name now resolves elsewhere (a replaced container)
    }
    return nullptr;
}

void UpstreamLoop::start(UpstreamCall call, Completions& done) {
    const auto started = Clock::now();
    auto refuse = [&](UpstreamFailure failure, std::string problem) {
        UpstreamOutcome outcome;
        outcome.failure = failure;
        outcome.problem = std::move(problem);
        done.emplace_back(std::move(call.done), std::move(outcome));
    };
    if (!call.address) return refuse(UpstreamFailure::no_connection, "its name does not resolve");
    Connection* connection = take_idle(call.slave, *call.address);
    if (connection == nullptr) {
        if (state_->connections.size() >= limits_.max_connections) {
            return refuse(UpstreamFailure::overloaded, "too many connections to slaves");
        }
        const int fd = ::socket(call.address->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return refuse(UpstreamFailure::overloaded, "cannot open a socket: " + errno_text(errno));
        const int on = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        auto owned = std::make_unique<Connection>();
        owned->fd = fd;
        owned->slave = call.slave;
        owned->address = call.address;
        connection = owned.get();
        state_->connections.emplace(fd, std::move(owned));
        connection->generation = state_->next_generation++;
        connection->done = std::move(call.done);
        connection->request = std::move(call.request);
        connection->started = started;
        connection->deadline = call.deadline.value_or(limits_.total);
        if (::connect(fd, call.address->get(), call.address->length()) < 0 && errno != EINPROGRESS) {
            return fail(*connection, UpstreamFailure::no_connection, errno_text(errno), done);
        }
        connection->phase = Connection::Phase::connecting;
        watch(*connection, EPOLLOUT);
        add_deadline(started + limits_.connect, fd, connection->generation);
        return;
    }
    connection->done = std::move(call.done);
    connection->request = std::move(call.request);
    connection->started = started;
    connection->deadline = call.deadline.value_or(limits_.total);
    begin_sending(*connection, done);
}

void UpstreamLoop::watch(Connection& connection, std::uint32_t events) {
    if (connection.watched == events) return;
    epoll_event event{};
    event.events = events | EPOLLRDHUP;
    event.data.fd = connection.fd;
    ::epoll_ctl(epoll_fd_, connection.watched == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, connection.fd, &event);
    connection.watched = events;
}

void UpstreamLoop::begin_sending(Connection& connection, Completions& done) {
    connection.phase = Connection::Phase::sending;
    connection.generation = state_->next_generation++;  // voids the connect deadline
    connection.written = 0;
    connection.reader.emplace(limits_.max_response_bytes, connection.request.rfind("HEAD ", 0) == 0);
    add_deadline(connection.started + connection.deadline, connection.fd, connection.generation);
    write_more(connection, done);
}

void UpstreamLoop::write_more(Connection& connection, Completions& done) {
    while (connection.written < connection.request.size()) {
        const ssize_t sent = ::send(connection.fd, connection.request.data() + connection.written,
                                    connection.request.size() - connection.written, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return watch(connection, EPOLLOUT);
        if (sent < 0) return fail(connection, UpstreamFailure::send_failed, errno_text(errno), done);
        connection.written += static_cast<std::size_t>(sent);
    }
    connection.phase = Connection::Phase::waiting;
    watch(connection, EPOLLIN);
}

void UpstreamLoop::on_event(Connection& connection, std::uint32_t events, Completions& done) {
    switch (connection.phase) {
        case Connection::Phase::connecting: {
            int error = 0;
            socklen_t length = sizeof error;
            ::getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &error, &length);
            if (error != 0) return fail(connection, UpstreamFailure::no_connection, errno_text(error), done);
            return begin_sending(connection, done);
        }
        case Connection::Phase::sending:
            if (events & EPOLLERR) return fail(connection, UpstreamFailure::send_failed, "connection broken", done);
            return write_more(connection, done);
        case Connection::Phase::waiting: return read_more(connection, done);
        case Connection::Phase::idle: {
            // A kept-alive connection has nothing to say until asked: this is the slave closing it.
            auto& fds = state_->idle[connection.slave];
            fds.erase(std::remove(fds.begin(), fds.end(), connection.fd), fds.end());
            return close(connection);
        }
    }
}

void UpstreamLoop::read_more(Connection& connection, Completions& done) {
    thread_local char buffer[64 * 1024];
    for (;;) {
        const ssize_t received = ::recv(connection.fd, buffer, sizeof buffer, 0);
        if (received < 0 && errno == EINTR) continue;
        if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        HttpResponseReader& reader = *connection.reader;
        if (received < 0) {
            return fail(connection, UpstreamFailure::no_answer, "connection broken: " + errno_text(errno), done);
        }
        const auto progress = received == 0 ? reader.end_of_stream()
                                            : reader.feed(std::string_view(buffer, static_cast<std::size_t>(received)));
        if (progress == HttpResponseReader::Progress::complete) {
            UpstreamResponse response = reader.take();
            if (received == 0) response.keep_alive = false;
            return finish(connection, std::move(response), done);
        }
        if (progress == HttpResponseReader::Progress::invalid) {
            const bool cut = received == 0;
            return fail(connection, cut ? UpstreamFailure::no_answer : UpstreamFailure::bad_answer, reader.problem(),
                        done);
        }
    }
}

void UpstreamLoop::finish(Connection& connection, UpstreamResponse response, Completions& done) {
    UpstreamOutcome outcome;
    outcome.elapsed = Clock::now() - connection.started;
    const bool reuse = response.keep_alive;
    state_->answer_bytes_this_turn += response.body.size();
    outcome.response = std::move(response);
    auto callback = std::move(connection.done);
    connection.reader.reset();
    connection.request.clear();
    auto& idle = state_->idle[connection.slave];
    if (reuse && idle.size() < limits_.max_idle_per_slave) {
        connection.phase = Connection::Phase::idle;
        connection.generation = state_->next_generation++;  // voids the call's deadline
        idle.push_back(connection.fd);
    } else {
        close(connection);
    }
    done.emplace_back(std::move(callback), std::move(outcome));
}

void UpstreamLoop::fail(Connection& connection, UpstreamFailure failure, std::string problem, Completions& done) {
    UpstreamOutcome outcome;
    outcome.failure = failure;
    outcome.problem = std::move(problem);
    outcome.elapsed = Clock::now() - connection.started;
    auto callback = std::move(connection.done);
    close(connection);
    if (callback) done.emplace_back(std::move(callback), std::move(outcome));
}

void UpstreamLoop::close(Connection& connection) {
    const int fd = connection.fd;
    ::close(fd);  // also leaves the epoll set
    state_->connections.erase(fd);
}

DrivenUpstreamLoop::DrivenUpstreamLoop(UpstreamLimits limits) : loop_(limits) {
    std::promise<void> driving;
    auto started = driving.get_future();
    thread_ = std::thread([this, &driving] {
        loop_.drive_from_this_thread();
        driving.set_value();
        while (!stopping_) {
            // The loop's own descriptor wakes it for work; the timeout only bounds how late it sees
            // that it must stop.
            pollfd readable{loop_.descriptor(), POLLIN, 0};
            if (::poll(&readable, 1, 50) > 0) loop_.run_ready();
        }
    });
    started.wait();  // calls submitted from now on find their driver
}

DrivenUpstreamLoop::~DrivenUpstreamLoop() {
    loop_.stop();  // the driver fails what is in flight and closes every connection
    stopping_ = true;
    thread_.join();
}

UpstreamClient::UpstreamClient(UpstreamLimits limits, std::size_t server_threads) {
    for (std::size_t i = 0; i < std::max<std::size_t>(server_threads, 1); ++i) {
        loops_.push_back(std::make_unique<UpstreamLoop>(limits));
    }
}

UpstreamLoop* UpstreamClient::loop_of_this_thread() {
    thread_local const UpstreamClient* owner = nullptr;
    thread_local UpstreamLoop* loop = nullptr;
    if (owner == this) return loop;
    ServerThread* server_thread = current_server_thread();
    const std::size_t index = server_thread ? claimed_++ : loops_.size();
    if (index >= loops_.size()) return nullptr;
    owner = this;
    loop = loops_[index].get();
    loop->drive_from_this_thread();
    server_thread->watch(loop->descriptor(), [loop = loop] { loop->run_ready(); });
    return loop;
}

void UpstreamClient::submit(UpstreamCall call) {
    UpstreamLoop* loop = loop_of_this_thread();
    if (loop == nullptr) {
        return call.done(refusal("internal error: a request was forwarded from outside the server's threads"));
    }
    loop->submit(std::move(call));
}

void UpstreamClient::stop() {
    for (auto& loop : loops_) loop->stop();
}

}  // namespace cdb::lb
