#include <gtest/gtest.h>

#include <optional>

#include "cdb/redis_info.h"
#include "cdb/route_table.h"

namespace cdb {
namespace {

HttpRequest request(std::string method, std::string path) {
    HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    return r;
}

HttpResponse answer(const RouteTable& routes, const HttpRequest& request) {
    std::optional<HttpResponse> response;
    routes.dispatch(request, [&](HttpResponse sent) { response = std::move(sent); });
    EXPECT_TRUE(response.has_value()) << "no answer to " << request.method << " " << request.path;
    return response.value_or(HttpResponse{});
}

TEST(RouteTable, DispatchesExactAndPrefixRoutes) {
    RouteTable routes;
    routes.exact("GET", "/list-keys", [](const HttpRequest&, std::string_view) { return json_response(200, "list"); })
        .prefix("GET", "/get/", [](const HttpRequest&, std::string_view tail) {
            return json_response(200, std::string(tail));
        })
        .prefix("DELETE", "/get/", [](const HttpRequest&, std::string_view) { return json_response(200, "del"); });
    EXPECT_EQ(answer(routes, request("GET", "/list-keys")).body, "list");
    EXPECT_EQ(answer(routes, request("GET", "/get/a%2Fb")).body, "a%2Fb");
    const HttpResponse not_allowed = answer(routes, request("POST", "/get/x"));
    EXPECT_EQ(not_allowed.status, 405);
    EXPECT_EQ(not_allowed.header("Allow"), "GET, DELETE");
    EXPECT_EQ(answer(routes, request("GET", "/nope")).status, 404);
    EXPECT_EQ(answer(routes, request("GET", "/list-keys/extra")).status, 404);
    HttpRequest malformed = request("GET", "/list-keys");
    malformed.malformed = "query parameter x is not correctly URL-encoded";
    EXPECT_EQ(answer(routes, malformed).status, 400);
}

TEST(RouteTable, AsyncRoutesAnswerWhenTheyChoose) {
    RouteTable routes;
    Reply kept;
    routes.exact_async("GET", "/later", [&](const HttpRequest&, Reply reply) { kept = std::move(reply); });
    std::optional<HttpResponse> response;
    routes.dispatch(request("GET", "/later"), [&](HttpResponse sent) { response = std::move(sent); });
    EXPECT_FALSE(response.has_value());
    kept(json_response(202, "done"));
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 202);
    EXPECT_EQ(answer(routes, request("POST", "/later")).status, 405);
}

TEST(RedisInfo, ParsesReplicationSection) {
    const std::string master = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\nmaster_repl_offset:1234\r\n";
    auto parsed = parse_replication_info(master);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->role, "master");
    EXPECT_EQ(parsed->offset, 1234);
    const std::string replica =
        "role:slave\r\nmaster_host:slave-0\r\nmaster_port:6379\r\nmaster_link_status:up\r\nmaster_repl_offset:99\r\n";
    parsed = parse_replication_info(replica);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->role, "slave");
    EXPECT_EQ(parsed->master_host, "slave-0");
    EXPECT_EQ(parsed->master_port, 6379);
    EXPECT_EQ(parsed->offset, 99);
    EXPECT_TRUE(parsed->master_link_up);
    EXPECT_FALSE(parsed->sync_in_progress);
    parsed = parse_replication_info("role:slave\r\nmaster_link_status:down\r\nmaster_sync_in_progress:1\r\n");
    ASSERT_TRUE(parsed);
    EXPECT_FALSE(parsed->master_link_up);
    EXPECT_TRUE(parsed->sync_in_progress);
    EXPECT_FALSE(parse_replication_info("-ERR nope"));
}

}  // namespace
}  // namespace cdb
