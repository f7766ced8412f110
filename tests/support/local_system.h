#pragma once
// The whole system as local processes for tests: N redis-server, N slave and one lb on free
// loopback ports, each owned by the fixture and killed when it goes away.
#include <httplib.h>
#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_processes.h"

namespace cdb::test {

class LocalSystem {
public:
    // `env` is added to every service's environment (timeouts, replication mode...).
    LocalSystem(int clusters, std::map<std::string, std::string> env = {});

    void start_cluster(int index);   // its Redis and slave
    void kill_cluster(int index);    // SIGKILL both, like a crashed machine
    // The platform's stop of these clusters at once (docker compose stop, pods deleted by a
    // scale-down): SIGTERM to their slaves, which hand the leadership over and drain; each Redis
    // goes only once its slave has exited, as cluster-run and the redis container's preStop do.
    // Returns the slaves' exit statuses (-1: still running after the bound, then killed).
    std::vector<int> stop_clusters(const std::vector<int>& indices);
    // `launcher`: a command the LB runs under (e.g. prlimit with its options and "--").
    void start_lb(int size, std::vector<std::string> launcher = {});
    void stop_lb();                  // SIGTERM, waits for the exit

    RedisServer& redis(int index) { return *redis_.at(index); }
    ChildProcess& slave(int index) { return *slaves_.at(index); }
    ChildProcess& lb() { return *lb_; }

    int slave_port(int index) const;
    int lb_port() const;
    httplib::Client client() const;  // to the LB, with bounded timeouts
    httplib::Result resize(int size) const;  // PUT /lb/size with the admin token, as the launchers send it
    // /lb/status parsed; an empty object when the LB does not answer.
    rapidjson::Document status() const;
    int leader() const;
    long long term() const;
    std::vector<int> ready() const;
    std::vector<int> drained() const;
    // Waits until the LB forwards to exactly `clusters` and has a leader.
    bool wait_ready(int clusters, std::chrono::milliseconds timeout = 15000ms) const;
    bool set(const std::string& key, const std::string& value) const;
    std::optional<std::string> get(const std::string& key) const;  // nullopt unless 200
    std::string logs() const;  // the LB's log, for failure messages

private:
    std::map<std::string, std::string> service_env(int size) const;

    int base_;
    std::map<std::string, std::string> env_;
    std::map<int, std::unique_ptr<RedisServer>> redis_;
    std::map<int, std::unique_ptr<ChildProcess>> slaves_;
    std::unique_ptr<ChildProcess> lb_;
};

}  // namespace cdb::test
