#include "sentinel_events.h"

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <sstream>

namespace cdb::bench {
namespace {

// "16549:X 28 Nov 2026 22:31:12.453 # +sdown master bench 127.0.0.1 26102"
std::optional<SentinelEvent> parse_line(const std::string& line) {
    std::istringstream in(line);
    SentinelEvent event;
    char role = 0;
    char colon = 0;
    if (!(in >> event.sentinel >> colon >> role) || colon != ':' || role != 'X') return std::nullopt;
    std::tm when{};
    in >> std::get_time(&when, "%d %b %Y %H:%M:%S");
    char dot = 0;
    int millis = 0;
    std::string level;
    if (!in || !(in >> dot >> millis >> level >> event.name) || dot != '.' || event.name.empty() ||
        event.name[0] != '+') {
        return std::nullopt;
    }
    event.at = std::chrono::seconds(::timegm(&when)) + std::chrono::milliseconds(millis);
    for (std::string word; in >> word;) event.words.push_back(word);
    return event;
}

int port_of(const SentinelEvent& event, std::size_t index) {
    return index < event.words.size() ? std::atoi(event.words[index].c_str()) : 0;
}

// The last port word: the master an event is about ("... @ bench 127.0.0.1 26102").
int master_port(const SentinelEvent& event) { return event.words.empty() ? 0 : port_of(event, event.words.size() - 1); }

}  // namespace

std::vector<SentinelEvent> parse_sentinel_events(const std::string& logs) {
    std::vector<SentinelEvent> events;
    std::istringstream in(logs);
    for (std::string line; std::getline(in, line);) {
        if (auto event = parse_line(line)) events.push_back(std::move(*event));
    }
    std::stable_sort(events.begin(), events.end(),
                     [](const SentinelEvent& a, const SentinelEvent& b) { return a.at < b.at; });
    return events;
}

std::vector<SentinelFailover> sentinel_failovers(const std::vector<SentinelEvent>& events) {
    std::vector<SentinelFailover> failovers;
    for (auto elected = events.begin(); elected != events.end(); ++elected) {
        if (elected->name != "+elected-leader") continue;
        SentinelFailover failover{elected->at, elected->sentinel, master_port(*elected), 0, std::nullopt, std::nullopt};
        const auto same_leader = [&](const SentinelEvent& e) { return e.sentinel == failover.leader; };
        auto selected = std::find_if(elected, events.end(), [&](const SentinelEvent& e) {
            return same_leader(e) && e.name == "+selected-slave";
        });
        if (selected != events.end()) failover.promoted = port_of(*selected, 3);
        // Backwards from the election: the leader's +sdown of this master, then its switch to it.
        std::optional<std::chrono::milliseconds> down_at;
        for (auto e = std::make_reverse_iterator(elected); e != events.rend(); ++e) {
            if (!same_leader(*e)) continue;
            if (!down_at && e->name == "+sdown" && !e->words.empty() && e->words[0] == "master" &&
                master_port(*e) == failover.old_master) {
                down_at = e->at;
            } else if (down_at && e->name == "+switch-master" && master_port(*e) == failover.old_master) {
                failover.down_after_switch = *down_at - e->at;
                break;
            }
        }
        auto demoted = std::find_if(elected, events.end(), [&](const SentinelEvent& e) {
            return e.name == "+convert-to-slave" && port_of(e, 3) == failover.old_master;
        });
        if (demoted != events.end()) failover.demoted_after = demoted->at - failover.at;
        failovers.push_back(failover);
    }
    return failovers;
}

}  // namespace cdb::bench
