#include "http_response_reader.h"

#include <gtest/gtest.h>

namespace cdb::lb {
namespace {

using Progress = HttpResponseReader::Progress;

constexpr std::size_t limit = 4096;
const std::string ok_response =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Replication: synced\r\nContent-Length: 11\r\n\r\n{\"key\":\"a\"}";

TEST(HttpResponseReader, ReadsAResponseGivenWhole) {
    HttpResponseReader reader(limit);
    ASSERT_EQ(reader.feed(ok_response), Progress::complete);
    const UpstreamResponse response = reader.take();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, R"({"key":"a"})");
    EXPECT_EQ(response.header("x-replication"), "synced");
    EXPECT_EQ(response.header("content-type"), "application/json");
    EXPECT_FALSE(response.header("Retry-After"));
    EXPECT_TRUE(response.keep_alive);
}

TEST(HttpResponseReader, ReadsAResponseGivenOneByteAtATime) {
    HttpResponseReader reader(limit);
    for (std::size_t i = 0; i + 1 < ok_response.size(); ++i) {
        ASSERT_EQ(reader.feed(ok_response.substr(i, 1)), Progress::incomplete) << "after byte " << i;
    }
    ASSERT_EQ(reader.feed(ok_response.substr(ok_response.size() - 1)), Progress::complete);
    EXPECT_EQ(reader.take().body, R"({"key":"a"})");
}

TEST(HttpResponseReader, ConnectionCloseAndHttp10EndKeepAlive) {
    HttpResponseReader closing(limit);
    ASSERT_EQ(closing.feed("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"),
              Progress::complete);
    EXPECT_FALSE(closing.take().keep_alive);
    HttpResponseReader old(limit);
    ASSERT_EQ(old.feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"), Progress::complete);
    EXPECT_FALSE(old.take().keep_alive);
}

TEST(HttpResponseReader, ABodyWithoutLengthEndsAtTheClose) {
    HttpResponseReader reader(limit);
    ASSERT_EQ(reader.feed("HTTP/1.1 200 OK\r\n\r\nsome"), Progress::incomplete);
    ASSERT_EQ(reader.feed(" body"), Progress::incomplete);
    ASSERT_EQ(reader.end_of_stream(), Progress::complete);
    const UpstreamResponse response = reader.take();
    EXPECT_EQ(response.body, "some body");
    EXPECT_FALSE(response.keep_alive);
}

TEST(HttpResponseReader, NoContentHasNoBody) {
    HttpResponseReader reader(limit);
    EXPECT_EQ(reader.feed("HTTP/1.1 204 No Content\r\n\r\n"), Progress::complete);
}

TEST(HttpResponseReader, ACutResponseIsNotAnAnswer) {
    HttpResponseReader nothing(limit);
    EXPECT_EQ(nothing.end_of_stream(), Progress::invalid);
    EXPECT_EQ(nothing.problem(), "connection closed before any response");
    HttpResponseReader half(limit);
    ASSERT_EQ(half.feed(ok_response.substr(0, ok_response.size() - 3)), Progress::incomplete);
    EXPECT_EQ(half.end_of_stream(), Progress::invalid);
    EXPECT_EQ(half.problem(), "connection closed in the middle of the response");
}

TEST(HttpResponseReader, RefusesMalformedResponses) {
    const char* malformed[] = {
        "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 999 Nope\r\nContent-Length: 0\r\n\r\n",
        "ICY 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra",
    };
    for (const char* bytes : malformed) {
        HttpResponseReader reader(limit);
        EXPECT_EQ(reader.feed(bytes), Progress::invalid) << bytes;
        EXPECT_FALSE(reader.problem().empty()) << bytes;
    }
}

TEST(HttpResponseReader, RefusesMoreThanTheLimit) {
    HttpResponseReader reader(64);
    EXPECT_EQ(reader.feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), Progress::incomplete);
    EXPECT_EQ(reader.feed(std::string(100, 'x')), Progress::invalid);
    EXPECT_EQ(reader.problem(), "response larger than 64 bytes");
}

}  // namespace
}  // namespace cdb::lb
