#include "local_system.h"

#include <signal.h>

namespace cdb::test {
namespace {

constexpr int max_test_clusters = 16;

std::vector<int> int_array(const rapidjson::Document& document, const char* name) {
    std::vector<int> values;
    if (!document.IsObject() || !document.HasMember(name) || !document[name].IsArray()) return values;
    for (const auto& value : document[name].GetArray()) values.push_back(value.GetInt());
    return values;
}

}  // namespace

LocalSystem::LocalSystem(int clusters, std::map<std::string, std::string> env)
    : base_(free_port_block(2 * max_test_clusters + 1)), env_(std::move(env)) {
    for (int index = 0; index < clusters; ++index) start_cluster(index);
    start_lb(clusters);
}

std::map<std::string, std::string> LocalSystem::service_env(int size) const {
    std::map<std::string, std::string> env{{"CLUSTER_HOST_TEMPLATE", "127.0.0.1"},
                                           {"CLUSTER_SIZE", std::to_string(size)},
                                           {"CLUSTER_PORT_STEP", "1"},
                                           {"SLAVE_PORT", std::to_string(base_)},
                                           {"REDIS_PORT", std::to_string(base_ + max_test_clusters)},
                                           {"LB_PORT", std::to_string(lb_port())},
                                           {"HANDOVER_LB_HOST", "127.0.0.1"},
                                           {"SLAVE_BIND", "127.0.0.1"},
                                           {"LB_BIND", "127.0.0.1"}};
    for (const auto& [key, value] : env_) env[key] = value;
    return env;
}

void LocalSystem::start_cluster(int index) {
    redis_[index] = std::make_unique<RedisServer>(base_ + max_test_clusters + index, RedisStart::replica_of_nowhere);
    auto env = service_env(static_cast<int>(redis_.size()));
    env["CLUSTER_INDEX"] = std::to_string(index);
    env["REDIS_DATA_PASSWORD"] = test_data_user.password;
    env["CONTROL_PLANE_KEY"] = test_control_plane_key;
    slaves_[index] = std::make_unique<ChildProcess>("slave-" + std::to_string(index),
                                                    std::vector<std::string>{SLAVE_BINARY}, env);
}

void LocalSystem::kill_cluster(int index) {
    slaves_.at(index)->signal(SIGKILL);
    slaves_.at(index)->wait_exit(5000ms);
    redis_.at(index)->kill();
}

std::vector<int> LocalSystem::stop_clusters(const std::vector<int>& indices) {
    for (int index : indices) slaves_.at(index)->signal(SIGTERM);
    std::vector<int> statuses;
    for (int index : indices) {
        // The hand-over's bound (handover.timeout_ms, 4 s) and the drain's (1 s), with room.
        const auto status = slaves_.at(index)->wait_exit(7000ms);
        if (!status) {
            slaves_.at(index)->signal(SIGKILL);
            slaves_.at(index)->wait_exit(5000ms);
        }
        statuses.push_back(status.value_or(-1));
        redis_.at(index)->kill();
    }
    return statuses;
}

void LocalSystem::start_lb(int size, std::vector<std::string> launcher) {
    // Each service gets only the secrets it needs: the slaves no Redis password but their own, no admin token.
    auto env = service_env(size);
    env["REDIS_COORDINATOR_PASSWORD"] = test_coordinator_user.password;
    env["CONTROL_PLANE_KEY"] = test_control_plane_key;
    env["ADMIN_TOKEN"] = test_admin_token;
    launcher.push_back(LB_BINARY);
    lb_ = std::make_unique<ChildProcess>("lb", std::move(launcher), env);
}

void LocalSystem::stop_lb() { lb_->stop(5000ms); }

int LocalSystem::slave_port(int index) const { return base_ + index; }

int LocalSystem::lb_port() const { return base_ + 2 * max_test_clusters; }

httplib::Client LocalSystem::client() const {
    httplib::Client http("127.0.0.1", lb_port());
    http.set_connection_timeout(1s);
    http.set_read_timeout(5s);
    return http;
}

httplib::Result LocalSystem::resize(int size) const {
    return client().Put("/lb/size", {{"Authorization", "Bearer " + test_admin_token}},
                        R"({"size":)" + std::to_string(size) + "}", "application/json");
}

rapidjson::Document LocalSystem::status() const {
    rapidjson::Document document;
    auto answer = client().Get("/lb/status");
    if (!answer || answer->status != 200 || document.Parse(answer->body.c_str()).HasParseError()) {
        document.SetObject();
    }
    return document;
}

int LocalSystem::leader() const {
    auto document = status();
    return document.HasMember("leader") ? document["leader"].GetInt() : -1;
}

long long LocalSystem::term() const {
    auto document = status();
    return document.HasMember("term") ? document["term"].GetInt64() : 0;
}

std::vector<int> LocalSystem::ready() const { return int_array(status(), "ready"); }

std::vector<int> LocalSystem::drained() const { return int_array(status(), "drained"); }

bool LocalSystem::wait_ready(int clusters, std::chrono::milliseconds timeout) const {
    return wait_until(
        [&] {
            auto document = status();
            return document.HasMember("term") && document["term"].GetInt64() > 0 &&
                   int_array(document, "ready").size() == static_cast<std::size_t>(clusters);
        },
        timeout);
}

bool LocalSystem::set(const std::string& key, const std::string& value) const {
    auto answer = client().Post("/set", R"({"key":")" + key + R"(","value":")" + value + "\"}", "application/json");
    return answer && answer->status == 200;
}

std::optional<std::string> LocalSystem::get(const std::string& key) const {
    auto answer = client().Get(("/get/" + key).c_str());
    if (!answer || answer->status != 200) return std::nullopt;
    rapidjson::Document document;
    if (document.Parse(answer->body.c_str()).HasParseError() || !document.HasMember("value")) return std::nullopt;
    return std::string(document["value"].GetString(), document["value"].GetStringLength());
}

std::string LocalSystem::logs() const { return lb_ ? lb_->log() : ""; }

}  // namespace cdb::test
