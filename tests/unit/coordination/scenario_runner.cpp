#include "scenario_runner.h"

#include <map>
#include <sstream>
#include <stdexcept>

namespace cdb::coordination::testing {

namespace {

std::vector<std::string> split(const std::string& line) {
    std::istringstream stream(line);
    std::vector<std::string> words;
    for (std::string word; stream >> word;) words.push_back(word);
    return words;
}

std::int64_t to_int(const std::string& text) {
    std::size_t used = 0;
    std::int64_t value = 0;
    try {
        value = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size()) throw std::invalid_argument("not a number: `" + text + "`");
    return value;
}

// `word word key=value ...`: the plain words in order, the key=value pairs by key.
struct Args {
    std::vector<std::string> plain;
    std::map<std::string, std::string> named;

    Args(const std::vector<std::string>& words, std::size_t from) {
        for (std::size_t i = from; i < words.size(); ++i) {
            const auto equals = words[i].find('=');
            if (equals == std::string::npos) {
                plain.push_back(words[i]);
            } else {
                named[words[i].substr(0, equals)] = words[i].substr(equals + 1);
            }
        }
    }
    const std::string& get(const std::string& key) const {
        auto it = named.find(key);
        if (it == named.end()) throw std::invalid_argument("missing `" + key + "=`");
        return it->second;
    }
    int index() const {
        if (plain.size() != 1) throw std::invalid_argument("expected one cluster index");
        return static_cast<int>(to_int(plain[0]));
    }
};

std::string cluster_text(int index) {
    return index == no_cluster ? "-" : std::to_string(index);
}

// `T/L`, with `-` for no leader: what a slave's /status or 409 says.
LeaderState parse_state(const std::string& text) {
    const auto slash = text.find('/');
    if (slash == std::string::npos) throw std::invalid_argument("expected term/leader, got `" + text + "`");
    const std::string leader = text.substr(slash + 1);
    return LeaderState{to_int(text.substr(0, slash)), leader == "-" ? no_cluster : static_cast<int>(to_int(leader))};
}

std::string state_text(const LeaderState& state) {
    return std::to_string(state.term) + "/" + cluster_text(state.leader);
}

// `I [slave=down|stopping|T/L [nonce=N]] [redis=down|master|replica:J [offset=N]]`: a cluster's
// slave probe, its Redis probe, or both (the slave's first), as the LB feeds them.
struct Probes {
    std::optional<SlaveProbe> slave;
    std::optional<RedisProbe> redis;
};

Probes parse_probes(const Args& args) {
    Probes probes;
    const int index = args.index();
    if (auto slave = args.named.find("slave"); slave != args.named.end()) {
        SlaveProbe probe;
        probe.index = index;
        if (auto nonce = args.named.find("nonce"); nonce != args.named.end()) {
            probe.lease_nonce = static_cast<std::uint64_t>(to_int(nonce->second));
        }
        if (slave->second == "stopping") {
            probe.stopping = true;
        } else if (slave->second != "down") {
            probe.state = parse_state(slave->second);
        }
        probes.slave = probe;
    }
    if (auto redis = args.named.find("redis"); redis != args.named.end()) {
        RedisProbe probe;
        probe.index = index;
        if (redis->second != "down") {
            RedisInfo info;
            if (redis->second.rfind("replica:", 0) == 0) {
                info.role = RedisRole::replica;
                info.master = static_cast<int>(to_int(redis->second.substr(8)));
            } else if (redis->second != "master") {
                throw std::invalid_argument("redis= takes down, master or replica:J");
            }
            if (auto offset = args.named.find("offset"); offset != args.named.end()) info.offset = to_int(offset->second);
            probe.info = info;
        }
        probes.redis = probe;
    }
    if (!probes.slave && !probes.redis) throw std::invalid_argument("a probe takes slave=, redis= or both");
    return probes;
}

void feed(Coordinator& coordinator, const Probes& probes, Millis now, std::vector<Decisions>& results) {
    if (probes.slave) results.push_back(coordinator.on_slave_probe(*probes.slave, now, now));
    if (probes.redis) results.push_back(coordinator.on_redis_probe(*probes.redis, now, now));
}

// `ok`, `absent` or `unanswered`: what the lookup of one cluster's name said.
NameLookup parse_lookup(const std::string& text) {
    if (text == "ok") return NameLookup::resolved;
    if (text == "absent") return NameLookup::absent;
    if (text == "unanswered") return NameLookup::unanswered;
    throw std::invalid_argument("names takes ok, absent or unanswered per cluster, got `" + text + "`");
}

ReplicationMode parse_mode(const std::string& text) {
    if (text == "none") return ReplicationMode::none;
    if (text == "async") return ReplicationMode::async;
    if (text == "sync") return ReplicationMode::sync;
    throw std::invalid_argument("mode= takes none, async or sync");
}

Config parse_config(const Args& args) {
    Config config;
    for (const auto& [key, value] : args.named) {
        if (key == "mode") {
            config.mode = parse_mode(value);
        } else if (key == "threshold") {
            config.failure_threshold = static_cast<int>(to_int(value));
        } else if (key == "eject-after") {
            config.eject_after = static_cast<int>(to_int(value));
        } else if (key == "recovery-window") {
            config.recovery_window_ms = to_int(value);
        } else if (key == "reannounce") {
            config.reannounce_interval_ms = to_int(value);
        } else if (key == "lease") {
            config.lease_ms = to_int(value);
        } else if (key == "gather") {
            config.leave_gathering_ms = to_int(value);
        } else if (key == "size") {
            config.size = static_cast<int>(to_int(value));
        } else if (key == "names") {
            if (value != "per-cluster" && value != "shared") throw std::invalid_argument("names= takes per-cluster or shared");
            config.names_per_cluster = value == "per-cluster";
        } else {
            throw std::invalid_argument("unknown config key `" + key + "`");
        }
    }
    return config;
}

std::string join(const std::vector<int>& indices, const std::string& separator) {
    std::string text;
    for (int index : indices) text += (text.empty() ? "" : separator) + std::to_string(index);
    return text.empty() ? "-" : text;
}

std::string election_text(const ElectionRecord& record) {
    return "term=" + std::to_string(record.state.term) + " leader=" + cluster_text(record.state.leader) +
           " reason=" + to_string(record.reason) + " started=" + std::to_string(record.started_at) +
           " ended=" + std::to_string(record.ended_at);
}

std::string redis_text(const std::optional<RedisInfo>& redis) {
    if (!redis) return "redis=down";
    const std::string role = redis->role == RedisRole::master ? "master" : "replica:" + cluster_text(redis->master);
    return "redis=" + role + " offset=" + std::to_string(redis->offset);
}

std::string cluster_line(int index, const ClusterState& cluster) {
    if (!cluster.slave_probed && !cluster.redis_probed) return "cluster " + std::to_string(index) + ": unprobed";
    std::string line = "cluster " + std::to_string(index) + ": slave=" +
                       (cluster.slave ? state_text(*cluster.slave) : "down") + " " + redis_text(cluster.redis) +
                       (cluster.admitted ? " admitted" : " ejected");
    if (cluster.slave_failures > 0) line += " slave-failures=" + std::to_string(cluster.slave_failures);
    if (cluster.draining) line += " draining";
    if (cluster.leaving) line += " leaving";
    return line;
}

}  // namespace

std::vector<std::string> render(const Decisions& decisions) {
    std::vector<std::string> lines;
    if (decisions.elected) lines.push_back("elected " + election_text(*decisions.elected));
    for (const ReplicaOf& order : decisions.redis) {
        lines.push_back("replicaof " + std::to_string(order.index) + " " +
                        (order.master ? std::to_string(*order.master) : "no-one"));
    }
    if (const auto& announce = decisions.announce) {
        lines.push_back("announce term=" + std::to_string(announce->state.term) +
                        " leader=" + cluster_text(announce->state.leader) +
                        " followers=" + std::to_string(announce->followers) + " to=" + join(announce->to, ","));
    }
    for (int index : decisions.admit) lines.push_back("admit " + std::to_string(index));
    for (int index : decisions.eject) lines.push_back("eject " + std::to_string(index));
    for (int index : decisions.drained) lines.push_back("drained " + std::to_string(index));
    return lines;
}

std::vector<std::string> render(const Status& status) {
    std::vector<std::string> lines;
    lines.push_back((status.recovering ? "recovering " : "") + std::string("term=") +
                    std::to_string(status.state.term) + " leader=" + cluster_text(status.state.leader) +
                    " followers=" + std::to_string(status.followers) +
                    " leader-failures=" + std::to_string(status.leader_failures) +
                    " elections=" + std::to_string(status.elections));
    if (status.pending) {
        lines.push_back(std::string("pending reason=") + to_string(status.pending->reason) +
                        " since=" + std::to_string(status.pending->since) +
                        (status.pending->waits_for_leases ? " waits-for-leases" : "") +
                        (status.pending->gathers_leavers ? " gathers-leavers" : ""));
    }
    if (status.last_election) lines.push_back("last-election " + election_text(*status.last_election));
    for (const auto& [index, cluster] : status.clusters) lines.push_back(cluster_line(index, cluster));
    return lines;
}

Coordinator& ScenarioRunner::coordinator() {
    if (!coordinator_) coordinator_.emplace(config_);
    return *coordinator_;
}

std::vector<std::string> ScenarioRunner::run(const ScenarioStep& step) {
    const std::vector<std::string> words = split(step.command);
    const std::string& name = words.at(0);
    const Args args(words, 1);
    std::vector<Decisions> results;
    if (name == "config") {
        if (coordinator_) throw std::invalid_argument("config must come before the first event");
        config_ = parse_config(args);
    } else if (name == "status") {
        std::vector<std::string> lines = render(coordinator().status());
        lines.push_back("ready " + join(coordinator().ready_clusters(), " "));
        return lines;
    } else if (name == "members") {
        std::vector<int> present;
        for (const std::string& word : args.plain) present.push_back(static_cast<int>(to_int(word)));
        results.push_back(coordinator().on_membership(present, now_));
    } else if (name == "tick") {
        now_ += to_int(args.plain.at(0));
        results.push_back(coordinator().on_tick(now_));
    } else if (name == "probe") {
        feed(coordinator(), parse_probes(args), now_, results);
    } else if (name == "round") {
        for (const std::string& line : step.input) feed(coordinator(), parse_probes(Args(split(line), 0)), now_, results);
    } else if (name == "report") {
        results.push_back(coordinator().on_leader_failure(
            LeaderFailureReport{static_cast<int>(to_int(args.get("from"))), to_int(args.get("term"))}, now_));
    } else if (name == "slave-state") {
        results.push_back(coordinator().on_slave_state(static_cast<int>(to_int(args.get("from"))),
                                                       parse_state(args.get("state")), now_));
    } else if (name == "forward-failure") {
        results.push_back(coordinator().on_forward_failure(args.index(), now_));
    } else if (name == "slave-stopping") {
        results.push_back(coordinator().on_slave_stopping(args.index(), now_));
    } else if (name == "grant") {
        const auto grant = coordinator().grant_lease(args.index(), now_);
        if (!grant) return {"no-grant"};
        std::string line = "grant term=" + std::to_string(grant->state.term) + " leader=" +
                           cluster_text(grant->state.leader) + " nonce=" + std::to_string(grant->nonce) +
                           " lease=" + std::to_string(grant->duration_ms);
        if (const auto wake = coordinator().wake_at()) line += " wake=" + std::to_string(*wake);
        return {line};
    } else if (name == "wake") {
        const auto wake = coordinator().wake_at();
        return {wake ? "wake " + std::to_string(*wake) : "no-wake"};
    } else if (name == "size") {
        results.push_back(coordinator().on_size_requested(args.index(), now_));
    } else if (name == "names") {
        std::vector<NameLookup> lookups;
        for (const std::string& word : args.plain) lookups.push_back(parse_lookup(word));
        results.push_back(coordinator().on_names_resolved(lookups, now_));
    } else if (name == "scaling") {
        const Status status = coordinator().status();
        std::vector<int> members;
        for (const auto& entry : status.clusters) members.push_back(entry.first);
        return {"desired=" + std::to_string(status.desired_size) + " members=" + join(members, ",") +
                " departed=" + join(status.departed, ",") +
                " resolve=" + std::to_string(coordinator().names_to_resolve())};
    } else if (name == "drain") {
        results.push_back(coordinator().on_drain_requested(args.index(), now_));
    } else if (name == "undrain") {
        results.push_back(coordinator().on_drain_cancelled(args.index(), now_));
    } else if (name == "leave") {
        results.push_back(coordinator().on_cluster_leaving(args.index(), now_));
    } else {
        throw std::invalid_argument("unknown command `" + name + "`");
    }
    std::vector<std::string> lines;
    for (const Decisions& decisions : results) {
        for (std::string& line : render(decisions)) lines.push_back(std::move(line));
    }
    if (lines.empty()) lines.push_back("ok");
    return lines;
}

}  // namespace cdb::coordination::testing
