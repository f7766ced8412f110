#pragma once
// Real processes for integration tests: redis-server and the project's binaries on free loopback
// ports. Every process is killed when its object goes away, so a failing test leaves nothing behind.
#include <netinet/in.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cdb/redis_connection.h"

namespace cdb::test {

using namespace std::chrono_literals;

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// The first port of `count` consecutive free loopback ports.
int free_port_block(int count);

// 127.0.0.1:port, for bind and connect.
sockaddr_in loopback_sockaddr(int port);

class ChildProcess {
public:
    // The process is killed when the thread that starts it ends, even if the test aborts.
    ChildProcess(std::string name, std::vector<std::string> argv, std::map<std::string, std::string> env = {});
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    void signal(int number) const;
    // SIGTERM, then SIGKILL after `grace`; returns the exit status (or 128 + signal).
    int stop(std::chrono::milliseconds grace = 3000ms);
    // Waits for the process to exit by itself; nullopt if it is still running after `timeout`.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    bool running();
    std::string log() const;  // what it printed (stdout and stderr)
    pid_t pid() const { return pid_; }

private:
    std::string name_;
    std::string log_path_;
    pid_t pid_ = -1;
    std::optional<int> exit_status_;
};

// The Redis users of docs/SECURITY.md with the passwords every test Redis is started with.
// cdb-admin (every command) is optional in docker/redis-run and only the tests turn it on, to look
// at what really is in a Redis; the services never use it.
extern const RedisCredentials test_data_user;
extern const RedisCredentials test_coordinator_user;
extern const RedisCredentials test_replication_user;
extern const RedisCredentials test_admin_user;

// The control-plane key and the admin token every test slave and LB are started with (docs/SECURITY.md).
extern const std::string test_control_plane_key;
extern const std::string test_admin_token;

// The variables docker/redis-run reads: every password, the admin's included.
std::map<std::string, std::string> redis_password_env();

// How the project starts every Redis it runs: a replica of nowhere, so that an empty, restarted
// Redis can never be the source its peers copy from; only the LB promotes one (docs/ELECTION.md).
// Tests of the slave alone, with no LB, use a plain master.
enum class RedisStart { replica_of_nowhere, master };

// Started by docker/redis-run, as in every mode of the project, so it has the real ACL users.
class RedisServer {
public:
    RedisServer(int port, RedisStart how);
    ~RedisServer();
    void start();  // (re)starts on the same port and waits until it answers PING
    // (Re)starts as a replica of the Redis on 127.0.0.1:master_port, whatever `how` said: a Redis
    // under Sentinel, which is never promoted by anything else.
    void start_replica_of(int master_port);
    void kill();   // SIGKILL: like a crash
    void pause();  // SIGSTOP: a black hole
    void resume();
    int port() const { return port_; }
    // A direct connection as cdb-admin, for checking what really is in this Redis.
    RedisReply command(const std::vector<std::string>& args) const;
    // The same as another user; the failure names the reason when the login is refused.
    RedisReply command_as(const RedisCredentials& user, const std::vector<std::string>& args) const;

private:
    void launch(const std::vector<std::string>& replication_args);

    int port_;
    RedisStart how_;
    std::string data_dir_;  // its own, always empty at start: a replica's RDB must never leak into another test
    std::unique_ptr<ChildProcess> process_;
};

}  // namespace cdb::test
