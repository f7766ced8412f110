// `generator --facts`: the launchers' facts are shell-safe NAME=value lines, follow --values and
// --set, and name what the generated deployment really contains.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "test_support.hpp"

namespace gen_test {
namespace {

std::map<std::string, std::string> facts_of(const std::vector<std::string>& arguments) {
    const ProcessResult result = run_generator(arguments);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    static const std::regex shell_safe_line("([A-Z_]+)=([A-Za-z0-9._/:-]+)");
    std::map<std::string, std::string> facts;
    std::istringstream lines(result.out);
    std::string line;
    std::smatch match;
    while (std::getline(lines, line)) {
        EXPECT_TRUE(std::regex_match(line, match, shell_safe_line)) << "not a shell-safe NAME=value line: " << line;
        facts[match[1]] = match[2];
    }
    return facts;
}

const YAML::Node* find_object(const std::vector<YAML::Node>& documents, const std::string& kind,
                              const std::string& name) {
    for (const YAML::Node& document : documents) {
        if (document["kind"].Scalar() == kind && document["metadata"]["name"].Scalar() == name) return &document;
    }
    return nullptr;
}

TEST(LauncherFacts, KindFactsNameWhatTheManifestsContain) {
    const std::vector<std::string> values{"--set", "kind.namespace=other-ns", "--set", "lb.servicePort=8081",
                                          "--set", "images.tag=v2"};
    std::vector<std::string> facts_arguments{"--target", "kind", "--facts"};
    facts_arguments.insert(facts_arguments.end(), values.begin(), values.end());
    const std::map<std::string, std::string> facts = facts_of(facts_arguments);
    std::vector<std::string> manifest_arguments{"--target", "kind", "--replicas", "2"};
    manifest_arguments.insert(manifest_arguments.end(), values.begin(), values.end());
    const ProcessResult manifests = run_generator(manifest_arguments);
    ASSERT_EQ(manifests.exit_code, 0) << manifests.err;
    const std::vector<YAML::Node> documents = YAML::LoadAll(manifests.out);

    ASSERT_EQ(facts.size(), 8u);
    EXPECT_EQ(facts.at("NAMESPACE"), "other-ns");
    EXPECT_NE(find_object(documents, "Namespace", facts.at("NAMESPACE")), nullptr);
    const YAML::Node* service = find_object(documents, "Service", facts.at("LB_SERVICE"));
    ASSERT_NE(service, nullptr);
    EXPECT_EQ((*service)["spec"]["ports"][0]["port"].Scalar(), facts.at("LB_SERVICE_PORT"));
    EXPECT_EQ(facts.at("LB_SERVICE_PORT"), "8081");
    const YAML::Node* slaves = find_object(documents, "StatefulSet", facts.at("SLAVE_STATEFULSET"));
    const YAML::Node* lb = find_object(documents, "Deployment", facts.at("LB_DEPLOYMENT"));
    ASSERT_NE(slaves, nullptr);
    ASSERT_NE(lb, nullptr);
    EXPECT_EQ((*slaves)["spec"]["template"]["spec"]["containers"][0]["image"].Scalar(), facts.at("SLAVE_IMAGE"));
    EXPECT_EQ((*lb)["spec"]["template"]["spec"]["containers"][0]["image"].Scalar(), facts.at("LB_IMAGE"));
    EXPECT_EQ(facts.at("LB_IMAGE"), "consult-db-lb:v2");
    EXPECT_NE(manifests.out.find("name: " + facts.at("REDIS_AUTH_SECRET") + "\n"), std::string::npos)
        << "no secretKeyRef names " << facts.at("REDIS_AUTH_SECRET");
}

TEST(LauncherFacts, ComposeFactsNameThePublishedAddressAndTheImages) {
    TemporaryDirectory dir;
    write_file(dir.path() + "/values.yaml", "lb:\n  publish:\n    port: 9090\n");
    const std::map<std::string, std::string> facts =
        facts_of({"--target", "compose", "--facts", "--values", dir.path() + "/values.yaml"});
    const ProcessResult compose =
        run_generator({"--target", "compose", "--replicas", "1", "--values", dir.path() + "/values.yaml"});
    ASSERT_EQ(compose.exit_code, 0) << compose.err;
    const YAML::Node lb = YAML::Load(compose.out)["services"]["lb"];
    EXPECT_EQ(lb["ports"][0].Scalar().rfind(facts.at("LB_ADDRESS") + ":" + facts.at("LB_PORT") + ":", 0), 0u)
        << lb["ports"][0].Scalar();
    EXPECT_EQ(facts.at("LB_PORT"), "9090");
    EXPECT_EQ(lb["image"].Scalar(), facts.at("LB_IMAGE"));
    EXPECT_EQ(YAML::Load(compose.out)["services"]["slave-0"]["image"].Scalar(), facts.at("SLAVE_IMAGE"));
}

TEST(LauncherFacts, NeedATargetNotReplicasAndRefuseBadValuesWritingNothing) {
    const ProcessResult without_target = run_generator({"--facts"});
    EXPECT_EQ(without_target.exit_code, 2);
    EXPECT_NE(without_target.err.find("--target is required"), std::string::npos) << without_target.err;
    TemporaryDirectory dir;
    const ProcessResult bad = run_generator(
        {"--target", "kind", "--facts", "--set", "kind.namespace=Not_A_Label", "--output", dir.path() + "/facts"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_TRUE(dir.entries().empty());
}

}  // namespace
}  // namespace gen_test
