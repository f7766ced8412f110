#include "lb_observer.h"

#include <httplib.h>
#include <rapidjson/document.h>

#include <thread>

namespace cdb::chaos {
namespace {

constexpr auto poll_interval = std::chrono::milliseconds(100);

httplib::Client client_of(const Endpoint& lb) {
    httplib::Client http(lb.host, lb.port);
    http.set_connection_timeout(std::chrono::seconds(1));
    http.set_read_timeout(std::chrono::seconds(3));
    return http;
}

template <typename Condition>
bool poll_until(Condition condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(poll_interval);
    }
    return true;
}

}  // namespace

std::optional<Topology> LbObserver::topology() const {
    std::string body;
    return topology(body);
}

std::optional<Topology> LbObserver::topology(std::string& body) const {
    auto http = client_of(lb_);
    auto answer = http.Get("/lb/status");
    if (!answer) {
        body = "no answer (" + httplib::to_string(answer.error()) + ")";
        return std::nullopt;
    }
    body = "HTTP " + std::to_string(answer->status) + " " + answer->body;
    rapidjson::Document status;
    if (answer->status != 200 || status.Parse(answer->body.c_str()).HasParseError() || !status.IsObject()) {
        return std::nullopt;
    }
    Topology topology;
    if (status.HasMember("term") && status["term"].IsInt64()) topology.term = status["term"].GetInt64();
    if (status.HasMember("leader") && status["leader"].IsInt()) topology.leader = status["leader"].GetInt();
    if (status.HasMember("followers") && status["followers"].IsInt()) topology.followers = status["followers"].GetInt();
    if (status.HasMember("replication_mode") && status["replication_mode"].IsString()) {
        topology.replication_mode = status["replication_mode"].GetString();
    }
    if (status.HasMember("ready") && status["ready"].IsArray()) {
        for (const auto& index : status["ready"].GetArray()) {
            if (index.IsInt()) topology.ready.push_back(index.GetInt());
        }
    }
    return topology;
}

Error LbObserver::wait_settled(int clusters, std::chrono::milliseconds timeout) const {
    std::string last_status;
    const bool settled = poll_until(
        [&] {
            auto now = topology(last_status);
            return now && now->term > 0 && now->leader >= 0 && static_cast<int>(now->ready.size()) == clusters &&
                   (now->replication_mode == "none" || now->followers == clusters - 1);
        },
        timeout);
    if (settled) return std::nullopt;
    return "last GET /lb/status: " + last_status;
}

std::optional<int> LbObserver::wait_new_leader(int old_leader, std::chrono::milliseconds timeout) const {
    int leader = -1;
    const bool changed = poll_until(
        [&] {
            auto now = topology();
            leader = now ? now->leader : -1;
            return leader >= 0 && leader != old_leader;
        },
        timeout);
    return changed ? std::optional<int>(leader) : std::nullopt;
}

FinalRead LbObserver::read_final(const KeySpace& keys, const std::string& key, std::chrono::milliseconds timeout) const {
    FinalRead final;
    final.key = key;
    auto http = client_of(lb_);
    poll_until(
        [&] {
            auto answer = http.Get("/get/" + keys.wire(key));
            if (!answer || (answer->status != 200 && answer->status != 404)) return false;
            final.answered = true;
            if (answer->status == 200) final.value = value_in_answer(answer->body);
            return true;
        },
        timeout);
    return final;
}

}  // namespace cdb::chaos
