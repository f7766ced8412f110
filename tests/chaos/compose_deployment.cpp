#include "compose_deployment.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_processes.h"

namespace cdb::chaos {
namespace {

const std::string project = "consult-db-chaos";
const std::string docker_binary = "/usr/bin/docker";
constexpr auto docker_timeout = std::chrono::seconds(30);

std::vector<std::string> words(const std::string& text, char separator) {
    std::vector<std::string> found;
    std::istringstream in(text);
    std::string word;
    while (std::getline(in, word, separator)) {
        if (!word.empty()) found.push_back(word);
    }
    return found;
}

}  // namespace

ComposeDeployment::ComposeDeployment(std::string repo, const CommandRunner& commands, const std::string& work_dir)
    : repo_(std::move(repo)), commands_(commands), engine_pid_file_(work_dir + "/dockerd.pid") {}

Error ComposeDeployment::docker(std::vector<std::string> args, std::string* output) const {
    args.insert(args.begin(), docker_binary);
    return commands_.run(args, docker_timeout, {}, output);
}

Error ComposeDeployment::launcher(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
    std::vector<std::string> argv{repo_ + "/launch-env"};
    argv.insert(argv.end(), args.begin(), args.end());
    return commands_.run(argv, timeout, {{"COMPOSE_PROJECT_NAME", project}});
}

Error ComposeDeployment::container(const std::string& service, std::string& id) const {
    std::string output;
    if (auto error = docker({"ps", "-aq", "--filter", "label=com.docker.compose.project=" + project, "--filter",
                             "label=com.docker.compose.service=" + service},
                            &output)) {
        return error;
    }
    auto ids = words(output, '\n');
    if (ids.size() != 1) return "expected one container for service " + service + ", found " + std::to_string(ids.size());
    id = ids.front();
    return std::nullopt;
}

Error ComposeDeployment::launch(int clusters) {
    std::filesystem::remove(engine_pid_file_);
    if (auto error = commands_.run({repo_ + "/scripts/ensure-docker.sh", "--pid-file", engine_pid_file_},
                                   std::chrono::minutes(5))) {
        return error;
    }
    std::string running;
    if (auto error = docker({"ps", "-aq", "--filter", "label=com.docker.compose.project=" + project}, &running)) {
        return error;
    }
    if (!words(running, '\n').empty()) {
        return "the Compose project " + project + " exists already; remove it with 'COMPOSE_PROJECT_NAME=" + project +
               " ./launch-env down' first";
    }
    clusters_ = clusters;
    port_ = test::free_port_block(1);
    launched_ = true;
    // The first launch may build the images: minutes on two cores.
    return launcher({std::to_string(clusters), "--port", std::to_string(port_)}, std::chrono::minutes(15));
}

Error ComposeDeployment::start_missing() {
    return launcher({std::to_string(clusters_), "--port", std::to_string(port_)}, std::chrono::minutes(3));
}

Error ComposeDeployment::stop() {
    if (!launched_) return std::nullopt;
    launched_ = false;
    Error error = launcher({"down"}, std::chrono::minutes(2));
    stop_started_engine();
    return error;
}

// Only an engine that ensure-docker.sh started for this run, never one that was already there.
void ComposeDeployment::stop_started_engine() const {
    std::ifstream file(engine_pid_file_);
    int pid = 0;
    if (!(file >> pid) || pid <= 0 || !process_alive(pid)) return;
    ::kill(pid, SIGTERM);
    test::wait_until([&] { return !process_alive(pid); }, std::chrono::seconds(30));
}

Error ComposeDeployment::kill_cluster(int index) {
    std::string id;
    if (auto error = container("slave-" + std::to_string(index), id)) return error;
    return docker({"kill", id});
}

Error ComposeDeployment::kill_redis(int index) {
    std::string id;
    if (auto error = container("slave-" + std::to_string(index), id)) return error;
    // The image has bash but no pkill. cluster-run then stops the slave too and the container exits.
    return docker({"exec", id, "bash", "-c",
                   "for d in /proc/[0-9]*; do [[ $(cat $d/comm 2>/dev/null) == redis-server ]] && "
                   "kill -9 ${d#/proc/}; done; true"});
}

Error ComposeDeployment::pause_cluster(int index) {
    std::string id;
    if (auto error = container("slave-" + std::to_string(index), id)) return error;
    if (auto error = docker({"pause", id})) return error;
    paused_.push_back(id);
    return std::nullopt;
}

Error ComposeDeployment::resume_paused() {
    Error first;
    for (const auto& id : paused_) {
        auto error = docker({"unpause", id});
        if (error && !first) first = error;
    }
    paused_.clear();
    return first;
}

Error ComposeDeployment::keep_logs(const std::string& into) const {
    std::string names;
    if (auto error = docker({"ps", "-a", "--filter", "label=com.docker.compose.project=" + project, "--format",
                             "{{.Names}}"},
                            &names)) {
        return error;
    }
    std::filesystem::create_directories(into);
    for (const std::string& name : words(names, '\n')) {
        std::string log;
        if (auto error = docker({"logs", "--tail", "500", name}, &log)) return error;
        std::ofstream(into + "/" + name + ".log") << log;
    }
    return std::nullopt;
}

Error ComposeDeployment::kill_lb() {
    std::string id;
    if (auto error = container("lb", id)) return error;
    return docker({"kill", id});
}

Error ComposeDeployment::disconnect_cluster(int index) {
    std::string id;
    if (auto error = container("slave-" + std::to_string(index), id)) return error;
    std::string networks;
    if (auto error = docker({"inspect", "-f",
                             "{{range $name, $net := .NetworkSettings.Networks}}{{$name}} "
                             "{{join $net.Aliases \",\"}}\n{{end}}",
                             id},
                            &networks)) {
        return error;
    }
    for (const auto& line : words(networks, '\n')) {
        const auto space = line.find(' ');
        Detached detached{id, line.substr(0, space), {}};
        if (space != std::string::npos) detached.aliases = words(line.substr(space + 1), ',');
        if (auto error = docker({"network", "disconnect", detached.network, id})) return error;
        detached_.push_back(std::move(detached));
    }
    if (detached_.empty()) return "container " + id + " is on no network";
    return std::nullopt;
}

Error ComposeDeployment::reconnect_disconnected() {
    Error first;
    for (const auto& detached : detached_) {
        std::vector<std::string> args{"network", "connect"};
        for (const auto& alias : detached.aliases) args.insert(args.end(), {"--alias", alias});
        args.insert(args.end(), {detached.network, detached.container});
        auto error = docker(args);
        if (error && !first) first = error;
    }
    detached_.clear();
    return first;
}

std::map<std::string, std::string> ComposeDeployment::lb_environment() {
    std::string id, output;
    if (container("lb", id) || docker({"inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", id}, &output)) {
        return {};
    }
    return environment_from(output, '\n');
}

}  // namespace cdb::chaos
