// The YAML writer: strings that YAML 1.1 or 1.2 would read as something else are quoted.
#include <gtest/gtest.h>

#include "yaml_writer.hpp"

namespace {

TEST(YamlWriter, QuotesStringsThatWouldReadAsOtherTypes) {
    for (const char* value : {"8080", "0755", "1e3", "1.10", ".5", "-1", "+1", "1:20", "0x1F", "yes", "Yes", "NO",
                              "on", "Off", "y", "n", "true", "False", "null", "~", "", "{i}", "[a]", "*ref",
                              "&anchor", "!tag", "%x", "@x", "`x", "a b", "a: b", "a #b", "key:", " lead"}) {
        EXPECT_TRUE(gen::needs_quotes(value)) << value;
    }
}

TEST(YamlWriter, LeavesPlainStringsPlain) {
    for (const char* value : {"slave-0", "consult-db-slave:latest", "/usr/bin/redis-server", "IfNotPresent",
                              "no-new-privileges:true", "app.kubernetes.io/name", "sync", "ALL", "http"}) {
        EXPECT_FALSE(gen::needs_quotes(value)) << value;
    }
}

TEST(YamlWriter, StringsReadBackAsTheSameStrings) {
    YAML::Node document;
    const std::vector<std::string> values{"8080", "yes", "off", "0755", "1e3", "slave-{i}", "plain", "two\nlines"};
    for (std::size_t index = 0; index < values.size(); ++index) document["k" + std::to_string(index)] = gen::text(values[index]);
    const YAML::Node parsed = YAML::Load(gen::to_yaml(document));
    for (std::size_t index = 0; index < values.size(); ++index) {
        const YAML::Node value = parsed["k" + std::to_string(index)];
        EXPECT_EQ(value.Scalar().substr(0, values[index].size()), values[index]);
        EXPECT_TRUE(value.Tag() == "!" || !gen::needs_quotes(value.Scalar())) << values[index];
    }
}

TEST(YamlWriter, NumbersAndBooleansArePlain) {
    YAML::Node document;
    document["port"] = 8080;
    document["enabled"] = true;
    document["name"] = gen::text("8080");
    EXPECT_EQ(gen::to_yaml(document), "port: 8080\nenabled: true\nname: \"8080\"\n");
}

TEST(YamlWriter, ArgumentVectorsAreQuotedFlowSequencesAndEmptyMapsBraces) {
    YAML::Node document;
    document["test"] = gen::argv({"CMD", "lb", "--probe", "/lb/healthz"});
    document["emptyDir"] = gen::empty_map();
    EXPECT_EQ(gen::to_yaml(document), "test: [\"CMD\", \"lb\", \"--probe\", \"/lb/healthz\"]\nemptyDir: {}\n");
}

TEST(YamlWriter, AmbiguousKeysAreQuoted) {
    YAML::Node document;
    document["1e3"]["driver"] = gen::text("bridge");
    EXPECT_EQ(gen::to_yaml(document), "\"1e3\":\n  driver: bridge\n");
}

}  // namespace
