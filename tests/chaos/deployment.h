#pragma once
// The system under test, as the chaos run sees it: launched and repaired only through ./launch-env,
// so the run does not depend on how the launcher starts Redis or the services; and the crude ways
// to hurt it that each mode has.
#include <map>
#include <string>

#include "command_runner.h"
#include "load_generator.h"

namespace cdb::chaos {

// One process of the system, for the faults that hit one alone (the gray-failure set, issue 20).
struct Part {
    enum class Kind { slave, redis, lb };
    Kind kind;
    int index = -1;  // the cluster of a slave or a Redis
};
std::string to_string(const Part& part);  // "the slave of cluster 2", "the LB"

// The share of one core a throttled process gets: 5 % (the "cpu.max 5000 100000").
constexpr int throttle_percent = 5;

class Deployment {
public:
    virtual ~Deployment() = default;

    virtual std::string mode() const = 0;
    virtual Endpoint lb() const = 0;
    // Starts a system of its own; refuses to take over one that runs already.
    virtual Error launch(int clusters) = 0;
    // ./launch-env N again: starts whatever was killed, and waits until it is ready.
    virtual Error start_missing() = 0;
    // Stops what launch() started (nothing if it started nothing).
    virtual Error stop() = 0;

    virtual Error kill_cluster(int index) = 0;  // SIGKILL its slave and its Redis
    virtual Error kill_redis(int index) = 0;    // SIGKILL its Redis only
    virtual Error pause_cluster(int index) = 0; // freezes it: it holds connections and answers nothing
    virtual Error resume_paused() = 0;  // whatever pause_cluster and pause_part froze
    // Freezes one process alone, e.g. a cluster's Redis while its slave still answers (local mode only).
    virtual bool can_pause_part() const { return false; }
    virtual Error pause_part(const Part&) { return "only the local mode can pause one process alone"; }
    // Holds one process to `percent` of one core until unthrottle(). cannot_throttle() says why that
    // is impossible here (another mode, or no cgroup cpu controller this run may use), else nullopt.
    virtual Error cannot_throttle() const { return "only the local mode can throttle one process"; }
    virtual Error throttle_part(const Part&, int) { return cannot_throttle(); }
    virtual Error unthrottle() { return std::nullopt; }
    virtual Error kill_lb() = 0;
    // Cuts a cluster off the network and puts it back (Compose only).
    virtual bool can_disconnect() const { return false; }
    virtual Error disconnect_cluster(int) { return "only the Compose mode can disconnect a cluster"; }
    virtual Error reconnect_disconnected() { return std::nullopt; }

    // Copies every part's log into the directory `into`, for a run that failed: stop() removes them.
    virtual Error keep_logs(const std::string& into) const = 0;

    // The LB's environment, from which its configuration (the timeouts) is read.
    virtual std::map<std::string, std::string> lb_environment() = 0;
};

// Alive and not a zombie: a killed process stays a zombie until its adopter reaps it.
bool process_alive(int pid);

// "NAME=value" entries separated by `separator` (/proc/PID/environ: NUL; docker inspect: newline).
std::map<std::string, std::string> environment_from(const std::string& text, char separator);

}  // namespace cdb::chaos
