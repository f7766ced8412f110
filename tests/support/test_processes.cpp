#include "test_processes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "cdb/config.h"

namespace cdb::test {

const RedisCredentials test_data_user{redis_data_user, "test-data-password-0001"};
const RedisCredentials test_coordinator_user{redis_coordinator_user, "test-coordinator-password-0001"};
const RedisCredentials test_replication_user{"cdb-replication", "test-replication-password-0001"};
const RedisCredentials test_admin_user{"cdb-admin", "test-admin-password-0001"};
const std::string test_control_plane_key = "test-control-plane-key-000000000001";
// tests/hostile/corpus/resize-*.http spell the token out: change them with it.
const std::string test_admin_token = "test-admin-token-0000000000000000001";

std::map<std::string, std::string> redis_password_env() {
    return {{"REDIS_DATA_PASSWORD", test_data_user.password},
            {"REDIS_COORDINATOR_PASSWORD", test_coordinator_user.password},
            {"REDIS_REPLICATION_PASSWORD", test_replication_user.password},
            {"REDIS_ADMIN_PASSWORD", test_admin_user.password}};
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
}

namespace {

bool port_is_free(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback_sockaddr(port);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return free;
}

}  // namespace

sockaddr_in loopback_sockaddr(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

int free_port_block(int count) {
    std::mt19937 random(static_cast<unsigned>(::getpid() ^ std::chrono::steady_clock::now().time_since_epoch().count()));
    std::uniform_int_distribution<int> base_of(20000, 60000 - count);
    for (int attempt = 0; attempt < 200; ++attempt) {
        const int base = base_of(random);
        bool all_free = true;
        for (int port = base; port < base + count && all_free; ++port) all_free = port_is_free(port);
        if (all_free) return base;
    }
    throw std::runtime_error("no block of " + std::to_string(count) + " free ports found");
}

ChildProcess::ChildProcess(std::string name, std::vector<std::string> argv, std::map<std::string, std::string> env)
    : name_(std::move(name)) {
    char log_template[] = "/tmp/cdb-test-XXXXXX";
    const int log_fd = ::mkstemp(log_template);
    if (log_fd < 0) throw std::runtime_error("cannot create a log file for " + name_);
    log_path_ = log_template;
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("cannot fork for " + name_);
    if (pid_ == 0) {
        // A test that aborts (a failed ASSERT with threads running, a crash) skips the destructors
        // that stop its processes: they die with the thread that started them instead of lingering.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);  // the test died before prctl took effect
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        ::setpgid(0, 0);
        for (const auto& [key, value] : env) ::setenv(key.c_str(), value.c_str(), 1);
        std::vector<char*> args;
        for (auto& arg : argv) args.push_back(arg.data());
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(log_fd);
}

ChildProcess::~ChildProcess() {
    if (running()) {
        ::kill(pid_, SIGCONT);  // a stopped process cannot act on SIGKILL's cleanup otherwise
        ::kill(pid_, SIGKILL);
        wait_exit(5000ms);
    }
    ::unlink(log_path_.c_str());
}

void ChildProcess::signal(int number) const { ::kill(pid_, number); }

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
    if (exit_status_) return exit_status_;
    wait_until(
        [&] {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
            exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return true;
        },
        timeout);
    return exit_status_;
}

bool ChildProcess::running() { return !wait_exit(0ms).has_value(); }

int ChildProcess::stop(std::chrono::milliseconds grace) {
    if (!running()) return *exit_status_;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    if (auto status = wait_exit(grace)) return *status;
    ::kill(pid_, SIGKILL);
    return wait_exit(5000ms).value_or(-1);
}

std::string ChildProcess::log() const {
    std::ifstream in(log_path_);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

RedisServer::RedisServer(int port, RedisStart how) : port_(port), how_(how) {
    char dir_template[] = "/tmp/cdb-redis-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error("cannot create a Redis data directory");
    data_dir_ = dir_template;
    start();
}

RedisServer::~RedisServer() {
    process_.reset();
    std::filesystem::remove_all(data_dir_);
}

void RedisServer::start() {
    launch(how_ == RedisStart::replica_of_nowhere ? std::vector<std::string>{"--replicaof", "127.0.0.1", "1"}
                                                  : std::vector<std::string>{});
}

void RedisServer::start_replica_of(int master_port) {
    launch({"--replicaof", "127.0.0.1", std::to_string(master_port)});
}

void RedisServer::launch(const std::vector<std::string>& replication_args) {
    // A restarted Redis starts empty, like a crashed machine's: what a replica saved is gone.
    std::filesystem::remove(data_dir_ + "/dump.rdb");
    std::vector<std::string> args{REDIS_RUN_SCRIPT, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                  "--dir", data_dir_, "--save", "", "--appendonly", "no", "--daemonize", "no",
                                  // A new follower syncs at once instead of after Redis's default 5 s.
                                  "--repl-diskless-sync-delay", "0"};
    args.insert(args.end(), replication_args.begin(), replication_args.end());
    process_ = std::make_unique<ChildProcess>("redis-" + std::to_string(port_), args, redis_password_env());
    const bool up = wait_until([&] { return command({"PING"}).is_status("PONG"); }, 5000ms);
    if (!up) throw std::runtime_error("redis-server on port " + std::to_string(port_) + " did not start: " + process_->log());
}

void RedisServer::kill() {
    process_->signal(SIGKILL);
    process_->wait_exit(5000ms);
}

void RedisServer::pause() { process_->signal(SIGSTOP); }

void RedisServer::resume() { process_->signal(SIGCONT); }

RedisReply RedisServer::command(const std::vector<std::string>& args) const { return command_as(test_admin_user, args); }

RedisReply RedisServer::command_as(const RedisCredentials& user, const std::vector<std::string>& args) const {
    std::string error;
    auto connection = RedisConnection::open({"127.0.0.1", port_}, {200ms, 1000ms}, user, error);
    if (!connection) return RedisReply::failure(error);
    return connection->command(args);
}

}  // namespace cdb::test
