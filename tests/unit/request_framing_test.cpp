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

TEST(RequestFraming, RefusesHeaderLinesThatProxiesWouldReadDifferently) {
    using namespace std::string_literals;
    for (const std::string& headers :
         {"X-A: a\nContent-Length: 5\r\n"s, "X-A: a\0b\r\n"s, "X-A: a\rb\r\n"s, "Host: a\r\nhost: b\r\n"s,
          "X A: b\r\n"s, "X-A : b\r\n"s, "X-A: a\r\n b\r\n"s, ": b\r\n"s, "Broken\r\n"s, "X(A): b\r\n"s}) {
        auto refusal = framing(headers);
        ASSERT_TRUE(refusal) << headers;
        EXPECT_EQ(refusal->status, 400) << headers;
    }
    EXPECT_FALSE(framing("Host: a\r\nX-Odd_Name.1~: tab\tin value\r\n"));
}

TEST(ChunkedTrailer, EndsAtTheEmptyLineWhateverTheCuts) {
    const std::string trailer = "X-Checksum: 1\r\nX-Other: 2\r\n\r\nGET /next";
    for (std::size_t cut = 0; cut <= trailer.size(); ++cut) {
        ChunkedTrailer reader;
        auto first = reader.read(std::string_view(trailer).substr(0, cut), 100);
        std::size_t consumed = first.consumed;
        if (first.progress == ChunkedTrailer::Progress::more) {
            auto second = reader.read(std::string_view(trailer).substr(cut), 100);
            ASSERT_EQ(second.progress, ChunkedTrailer::Progress::done) << cut;
            consumed += second.consumed;
        }
        EXPECT_EQ(trailer.substr(consumed), "GET /next") << cut;
    }
    ChunkedTrailer empty;
    EXPECT_EQ(empty.read("\r\nGET", 100).consumed, 2u);
}

TEST(ChunkedTrailer, RefusesBareLineEndsNulAndOversizedSections) {
    using namespace std::string_literals;
    for (const std::string& input : {"\n"s, "X: a\nY: b\r\n\r\n"s, "X: a\rb\r\n\r\n"s, "X: \0\r\n\r\n"s,
                                     "X: "s + std::string(200, 'a') + "\r\n\r\n"}) {
        ChunkedTrailer reader;
        EXPECT_EQ(reader.read(input, 100).progress, ChunkedTrailer::Progress::refused) << input;
    }
}

}  // namespace
}  // namespace cdb
