#include <gtest/gtest.h>

#include "cdb/json_builder.h"
#include "cdb/text_rules.h"

namespace cdb {
namespace {

TEST(Utf8, AcceptsValidAndRejectsInvalid) {
    EXPECT_TRUE(is_valid_utf8("plain"));
    EXPECT_TRUE(is_valid_utf8("été 日本 🎉"));
    EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated
    EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xFF"));
    EXPECT_EQ(to_valid_utf8("a\xFF" "b\xC3"), "a?b?");
}

TEST(Keys, RulesAndStatuses) {
    EXPECT_FALSE(check_key("user:1/é", 64));
    EXPECT_EQ(check_key("", 64)->problem, TextProblem::empty);
    EXPECT_EQ(check_key(std::string(65, 'k'), 64)->problem, TextProblem::too_long);
    EXPECT_EQ(check_key("a\r\nb", 64)->problem, TextProblem::control_character);
    EXPECT_EQ(check_key(std::string("a\0b", 3), 64)->problem, TextProblem::control_character);
    EXPECT_EQ(check_key("\xFF", 64)->problem, TextProblem::invalid_utf8);
}

TEST(Values, AnyValidUtf8UpToTheLimit) {
    EXPECT_FALSE(check_value(std::string("line\nwith\0nul", 13), 64));
    EXPECT_EQ(check_value(std::string(65, 'v'), 64)->problem, TextProblem::too_long);
    EXPECT_EQ(check_value("\xC3(", 64)->problem, TextProblem::invalid_utf8);
}

TEST(PercentDecoding, DecodesAndRejectsBrokenEscapes) {
    EXPECT_EQ(percent_decode("a%2Fb%20%C3%A9"), "a/b é");
    EXPECT_EQ(percent_decode("a+b"), "a+b");
    EXPECT_EQ(query_decode("a+b%2B"), "a b+");
    EXPECT_FALSE(percent_decode("%"));
    EXPECT_FALSE(percent_decode("%2"));
    EXPECT_FALSE(percent_decode("%zz"));
}

TEST(Json, EscapesOddStrings) {
    const std::string json = JsonBuilder()
                                 .field("quote", "say \"hi\"\\")
                                 .field("control", std::string_view("a\0b\n\x01", 5))
                                 .field("unicode", "é🎉")
                                 .field("broken", "x\xFFy")
                                 .field("n", 42)
                                 .field("ok", true)
                                 .field("list", std::vector<std::string>{"a", "\t"})
                                 .str();
    EXPECT_EQ(json,
              R"({"quote":"say \"hi\"\\","control":"a\u0000b\n\u0001","unicode":"é🎉","broken":"x?y","n":42,)"
              R"("ok":true,"list":["a","\t"]})");
    EXPECT_EQ(json_error("nope"), R"({"error":"nope"})");
}

}  // namespace
}  // namespace cdb
