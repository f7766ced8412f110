#include <gtest/gtest.h>

#include "cdb/request_framing.h"

namespace cdb {
namespace {

constexpr RequestLimits limits{200, 1000};

std::optional<FramingRefusal> framing(const std::string& headers) {
    return check_framing("POST /set HTTP/1.1\r\n" + headers + "\r\n{\"key\":", limits);
}

TEST(RequestFraming, AcceptsPlainLengthsAndRequestsWithoutBody) {
    EXPECT_FALSE(framing("Content-Length: 12\r\n"));
    EXPECT_FALSE(framing("content-length:\t0012 \r\nHost: x\r\n"));
    EXPECT_FALSE(framing("Content-Length: 1000\r\n"));
    EXPECT_FALSE(framing(""));
    EXPECT_FALSE(framing("Transfer-Encoding: chunked\r\n"));  // Pistache parses chunks and refuses bad ones
    EXPECT_FALSE(framing("X-Note: Content-Length: -5\r\n"));
}

TEST(RequestFraming, DecidesNothingBeforeTheHeadIsComplete) {
    EXPECT_FALSE(check_framing("POST /set HTTP/1.1\r\nContent-Length: -5\r\n", limits));
    EXPECT_TRUE(check_framing("POST /set HTTP/1.1\r\nContent-Length: -5\r\n\r\n", limits));
}

TEST(RequestFraming, RefusesLengthsThatAreNotOnePlainDecimal) {
    using namespace std::string_literals;
    for (const std::string& value : {"-5"s, "abc"s, "5, 6"s, "+5"s, "0x10"s, ""s, "1 2"s, "5\0"s}) {
        auto refusal = framing("Content-Length: " + value + "\r\n");
        ASSERT_TRUE(refusal) << value;
        EXPECT_EQ(refusal->status, 400) << value;
    }
    EXPECT_EQ(framing("Content-Length: 2\r\ncontent-length: 2\r\n")->message, "more than one Content-Length header");
    EXPECT_EQ(framing("Content-Length : 2\r\n")->status, 400);
}

TEST(RequestFraming, RefusesBodiesOverTheLimitWith413) {
    EXPECT_EQ(framing("Content-Length: 1001\r\n")->status, 413);
    EXPECT_EQ(framing("Content-Length: 99999999999999999999999\r\n")->status, 413);
    EXPECT_FALSE(framing("Content-Length: 00000000000000000000001\r\n"));
}

TEST(RequestFraming, RefusesHeadsOverTheLimitWith431EvenBeforeTheyEnd) {
    const std::string filler = "X-Filler: " + std::string(200, 'f') + "\r\n";
    EXPECT_EQ(check_framing("GET /healthz HTTP/1.1\r\n" + filler, limits)->status, 431);
    EXPECT_EQ(framing(filler)->status, 431);
    EXPECT_FALSE(framing(std::string(150, 'h') + ": 1\r\n"));
}

}  // namespace
}  // namespace cdb
