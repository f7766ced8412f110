// Values: the embedded defaults, their documentation, merging, --set, types and rules.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "cdb/config.h"
#include "generator_error.hpp"
#include "value_rules.hpp"
#include "values.hpp"

namespace {

using gen::GeneratorError;
using gen::Values;
using gen::ValueType;

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const GeneratorError& error) {
        return error.what();
    }
    return "no error";
}

TEST(Values, EveryKeyIsDocumentedOnceAndEveryDocumentedKeyExists) {
    std::set<std::string> keys;
    const Values defaults = Values::defaults();
    for (const auto& [key, value] : defaults.leaves()) keys.insert(key);
    std::multiset<std::string> documented;
    for (const gen::ValueDoc& doc : gen::value_docs()) {
        documented.insert(doc.key);
        EXPECT_FALSE(doc.description.empty()) << doc.key;
    }
    EXPECT_EQ(std::set<std::string>(documented.begin(), documented.end()), keys);
    EXPECT_EQ(documented.size(), keys.size()) << "a key is documented twice";
}

TEST(Values, TypesComeFromTheDefaults) {
    const Values values = Values::defaults();
    EXPECT_EQ(values.value("config.slave.port").type, ValueType::integer);
    EXPECT_EQ(values.value("kind.networkPolicy").type, ValueType::boolean);
    EXPECT_EQ(values.value("images.tag").type, ValueType::string);
    // Quoted in values.yaml, so a string although it looks like a number.
    EXPECT_EQ(values.value("resources.lb.limits.cpu").type, ValueType::string);
    EXPECT_EQ(values.string("compose.restart"), "no");
}

TEST(Values, DefaultsAreTheDocumentedOnes) {
    const Values values = Values::defaults();
    EXPECT_EQ(values.string("images.slave"), "consult-db-slave");
    EXPECT_EQ(values.string("images.lb"), "consult-db-lb");
    EXPECT_EQ(values.string("images.tag"), "latest");
    EXPECT_EQ(values.integer("config.slave.port"), 8080);
    EXPECT_EQ(values.integer("config.redis.port"), 6379);
    EXPECT_EQ(values.integer("config.lb.port"), 8080);
    EXPECT_EQ(values.integer("lb.publish.port"), 8080);
    EXPECT_EQ(values.string("lb.publish.address"), "127.0.0.1");
    EXPECT_EQ(values.string("cluster.hostTemplate.compose"), "slave-{i}");
    EXPECT_EQ(values.string("cluster.hostTemplate.kind"), "slave-{i}.slave");
    EXPECT_EQ(values.integer("config.election.failure_threshold"), 3);
    EXPECT_EQ(values.integer("config.election.probe_interval_ms"), 200);
    EXPECT_EQ(values.string("config.replication.mode"), "sync");
    EXPECT_EQ(values.string("kind.namespace"), "consult-db");
}

TEST(Values, LaterFilesWinAndSetWinsOverFiles) {
    Values values = Values::defaults();
    values.merge_text("images:\n  tag: one\nconfig:\n  log_level: warn\n", "first");
    values.merge_text("images:\n  tag: two\n", "second");
    EXPECT_EQ(values.string("images.tag"), "two");
    EXPECT_EQ(values.string("config.log_level"), "warn");
    values.set("images.tag=three");
    values.set("config.slave.port=9090");
    values.set("kind.networkPolicy=false");
    EXPECT_EQ(values.string("images.tag"), "three");
    EXPECT_EQ(values.integer("config.slave.port"), 9090);
    EXPECT_FALSE(values.boolean("kind.networkPolicy"));
}

TEST(Values, EmptyFilesAndEmptySectionsChangeNothing) {
    Values values = Values::defaults();
    values.merge_text("", "empty");
    values.merge_text("# only a comment\n", "comment");
    values.merge_text("images:\nconfig: {}\n", "empty sections");
    EXPECT_EQ(values.string("images.tag"), "latest");
}

TEST(Values, StringKeysTakeAnyScalarAsWritten) {
    Values values = Values::defaults();
    values.merge_text("images:\n  tag: 1.10\n", "file");
    EXPECT_EQ(values.string("images.tag"), "1.10");
    values.set("redis.maxmemory=1024");
    EXPECT_EQ(values.string("redis.maxmemory"), "1024");
}

TEST(Values, TypeMismatchesAreErrorsNamingTheKeyAndTheSource) {
    Values values = Values::defaults();
    EXPECT_EQ(error_of([&] { values.merge_text("config:\n  slave:\n    port: \"8080\"\n", "values file x"); }),
              "values file x: config.slave.port must be an integer, got \"8080\"");
    EXPECT_EQ(error_of([&] { values.set("kind.networkPolicy=yes"); }),
              "--set kind.networkPolicy=yes: kind.networkPolicy must be true or false, got \"yes\"");
    EXPECT_EQ(error_of([&] { values.merge_text("images:\n  tag:\n", "f"); }), "f: images.tag must be a string, got no value");
    EXPECT_EQ(error_of([&] { values.merge_text("images:\n  tag: {a: 1}\n", "f"); }),
              "f: images.tag.a is not a known key (generator --help lists them)");
}

TEST(Values, RulesRejectValuesOutsideTheirRange) {
    Values values = Values::defaults();
    EXPECT_NE(error_of([&] { values.set("cluster.hostTemplate.kind=slave"); }).find("containing {i}"), std::string::npos);
    EXPECT_NE(error_of([&] { values.set("lb.publish.address=localhost"); }).find("IPv4"), std::string::npos);
    EXPECT_NE(error_of([&] { values.set("kind.namespace=Consult_DB"); }).find("DNS label"), std::string::npos);
    EXPECT_EQ(values.string("kind.namespace"), "consult-db") << "a rejected value must not be stored";
}

TEST(Values, EveryRuleAppliesToSomeKey) {
    const Values values = Values::defaults();
    for (const gen::ValueRule& rule : gen::value_rules()) {
        bool used = false;
        for (const auto& [key, value] : values.leaves()) used = used || gen::rule_for(key) == &rule;
        EXPECT_TRUE(used) << "rule " << rule.pattern << " is shadowed or matches no key";
    }
}

TEST(Values, ConfigDefaultsComeFromTheServicesSchemaOnly) {
    const Values values = Values::defaults();
    EXPECT_EQ(values.integer("config.slave.threads"), cdb::DeploymentConfig{}.slave.threads);
    EXPECT_EQ(values.integer("config.lb.threads"), cdb::DeploymentConfig{}.lb.threads);
    EXPECT_NE(error_of([] { Values::from_defaults_text("config:\n  slave:\n    threads: 4\n", "defaults"); })
                  .find("defaults: config.slave.threads must not be here"),
              std::string::npos);
    EXPECT_NE(error_of([&] { Values(values).set("config.slave.bind=127.0.0.1"); }).find("is not a known key"),
              std::string::npos)
        << "containers must listen on every address: the generator does not offer slave.bind";
}

TEST(Values, DefaultsThatBreakARuleAreRejected) {
    EXPECT_NE(error_of([] { Values::from_defaults_text("lb:\n  servicePort: 0\n", "defaults"); })
                  .find("lb.servicePort must be an integer from 1 to 65535"),
              std::string::npos);
}

}  // namespace
