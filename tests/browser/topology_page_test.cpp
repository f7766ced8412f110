// The topology page (GET /lb/ui, docs/UI.md) in a real browser: headless Chromium opens it on a
// local system, the leader's Redis is killed, and the page's own DOM must show the new term and
// leader within 3 s. A screenshot of the page after the failover is left beside the test log.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "devtools_pipe.h"
#include "local_system.h"

namespace cdb::test {
namespace {

const std::map<std::string, std::string> fast_env{
    {"HTTP_UPSTREAM_TIMEOUT_MS", "500"}, {"HTTP_UPSTREAM_CONNECT_TIMEOUT_MS", "200"},
    {"REDIS_COMMAND_TIMEOUT_MS", "300"}, {"REDIS_CONNECT_TIMEOUT_MS", "200"},
    {"ELECTION_PROBE_INTERVAL_MS", "100"}};

// What the page shows, read from its DOM as a person would see it.
struct PageView {
    std::string term;
    std::string leader;
    std::map<std::string, std::string> roles;  // "slave-i" -> the role badge's text
    bool parsed = false;
};

PageView read_page(DevtoolsBrowser& browser) {
    const std::string json = browser.evaluate(R"(JSON.stringify({
        term: document.getElementById("term").textContent,
        leader: document.getElementById("leader").textContent,
        rows: [...document.querySelectorAll("#clusters tbody tr")].map(
            (row) => [row.cells[0].textContent, row.querySelector(".role").textContent])}))");
    PageView view;
    rapidjson::Document document;
    if (document.Parse(json.c_str()).HasParseError() || !document.IsObject()) return view;
    view.term = document["term"].GetString();
    view.leader = document["leader"].GetString();
    for (const auto& row : document["rows"].GetArray()) view.roles[row[0].GetString()] = row[1].GetString();
    view.parsed = true;
    return view;
}

TEST(TopologyPage, ShowsTheNewLeaderWithinThreeSecondsOfAFailover) {
    LocalSystem system(3, fast_env);
    ASSERT_TRUE(system.wait_ready(3)) << system.logs();
    ASSERT_TRUE(wait_until([&] { return system.status()["followers"].GetInt() == 2; }, 5000ms)) << system.logs();
    const int old_leader = system.leader();
    const std::string old_term = std::to_string(system.term());

    DevtoolsBrowser browser;
    browser.open("http://127.0.0.1:" + std::to_string(system.lb_port()) + "/lb/ui");
    PageView view;
    ASSERT_TRUE(wait_until([&] {
        view = read_page(browser);
        return view.parsed && view.term == old_term && view.roles.size() == 3;
    }, 10000ms)) << "the page never showed term " << old_term;
    EXPECT_EQ(view.leader, "slave-" + std::to_string(old_leader));
    EXPECT_EQ(view.roles["slave-" + std::to_string(old_leader)], "leader");
    for (const auto& [name, role] : view.roles) {
        if (name != view.leader) {
            EXPECT_EQ(role, "follower") << name;
        }
    }

    const auto killed_at = std::chrono::steady_clock::now();
    system.redis(old_leader).kill();
    const bool moved = wait_until([&] {
        view = read_page(browser);
        return view.parsed && view.term != old_term && view.leader != "slave-" + std::to_string(old_leader) &&
               view.roles[view.leader] == "leader";
    }, 3000ms);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at);
    ASSERT_TRUE(moved) << "after " << took.count() << " ms the page shows term " << view.term << ", leader "
                       << view.leader << "\n" << system.logs();
    EXPECT_EQ(std::to_string(system.term()), view.term);
    EXPECT_EQ(view.roles["slave-" + std::to_string(old_leader)], "down");
    std::cout << "the page showed term " << view.term << " and leader " << view.leader << " " << took.count()
              << " ms after the kill\n";
    browser.screenshot("topology-page.png");
}

}  // namespace
}  // namespace cdb::test
