#include <gtest/gtest.h>

#include "cdb/json_input.h"

namespace cdb {
namespace {

TEST(JsonInput, ParsesFlatDocuments) {
    rapidjson::Document document;
    EXPECT_FALSE(parse_json_input(document, R"({"key":"k","value":"[[[{{{","ttl":5})"));
    EXPECT_EQ(document["ttl"].GetInt(), 5);
}

TEST(JsonInput, RefusesDeepNestingBeforeParsing) {
    // Regression: 300 000 '[' in a POST /set body overflowed the stack of a slave thread (SIGSEGV).
    rapidjson::Document document;
    auto problem = parse_json_input(document, std::string(300000, '['));
    ASSERT_TRUE(problem);
    EXPECT_EQ(*problem, "nested deeper than 32 levels");
    EXPECT_FALSE(parse_json_input(document, std::string(32, '[') + std::string(32, ']')));
    EXPECT_TRUE(parse_json_input(document, std::string(33, '{')));
}

TEST(JsonInput, CountsOnlyBracketsOutsideStrings) {
    EXPECT_FALSE(json_nested_deeper_than(R"(["[[[", "\"[[[", {"a": ["]]]"]}])", 3));
    EXPECT_TRUE(json_nested_deeper_than(R"([[[[)", 3));
    EXPECT_FALSE(json_nested_deeper_than(R"("\\"[[[)", 3));  // the string ends after the escaped backslash
    EXPECT_TRUE(json_nested_deeper_than(R"("\\"[[[[)", 3));
}

TEST(JsonInput, RefusesInvalidUtf8AndSaysWhereItFailed) {
    rapidjson::Document document;
    EXPECT_EQ(*parse_json_input(document, "{\"k\":\"\xff\"}"), "Invalid encoding in string. at offset 6");
    EXPECT_EQ(*parse_json_input(document, R"({"k":)"), "Invalid value. at offset 5");
}

}  // namespace
}  // namespace cdb
