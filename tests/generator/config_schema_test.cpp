// The services' configuration schema (cdb/config_schema.h) against everything that repeats it: the
// services' parser, the generator's values and --help, and docs/CONFIG.md's table of fields.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "cdb/config.h"
#include "config_reference.hpp"
#include "test_support.hpp"

namespace cdb {
// Names a field by its path in failure messages (instead of GTest's byte dump).
void PrintTo(const ConfigField& field, std::ostream* out) { *out << field.path; }
}  // namespace cdb

namespace gen_test {
namespace {

using cdb::ConfigField;
using cdb::FieldType;

// One value to try on a field, as text (an environment variable, a --set), and whether the
// services accept it.
struct Probe {
    std::string text;
    bool accepted;
};

std::vector<Probe> probes_of(const ConfigField& field) {
    switch (field.type) {
        case FieldType::integer:
            return {{std::to_string(field.min), true},
                    {std::to_string(field.max), true},
                    {std::to_string(field.min - 1), false},
                    {std::to_string(field.max + 1), false},
                    {"twelve", false}};
        // With {i}, which cluster.host_template needs unless cluster.port_step > 0.
        case FieldType::text: return {{"x-{i}", true}, {"", false}};
        case FieldType::choice: {
            std::vector<Probe> probes{{"not-a-" + field.path, false}};
            for (const std::string& choice : field.choices) probes.push_back({choice, true});
            return probes;
        }
        case FieldType::secret:
            return {{std::string(field.min, 's'), true},
                    {std::string(field.max, 's'), true},
                    {std::string(field.min - 1, 's'), false},
                    {std::string(field.max + 1, 's'), false},
                    {std::string(field.min, 's') + " ", false}};
    }
    return {};
}

// Values of other fields that the rules between fields need for `value` of `field` to be accepted:
// the schema's extremes must be reachable, not cut off by a neighbour's default.
std::map<std::string, std::string> companions(const ConfigField& field, const std::string& value) {
    std::map<std::string, std::string> others;
    if (field.type != FieldType::integer) return others;
    const long long number = std::stoll(value);
    const auto default_of = [](const std::string& path) {
        return std::stoll(cdb::find_config_field(path)->default_text);
    };
    for (const cdb::FieldRelation& relation : cdb::config_relations()) {
        const long long gap = relation.comparison == cdb::Comparison::below ? 1 : 0;
        if (relation.field == field.path) {
            others[relation.other] = std::to_string(std::max(default_of(relation.other), number + gap));
        } else if (relation.other == field.path) {
            others[relation.field] = std::to_string(std::min(default_of(relation.field), number - gap));
        }
    }
    return others;
}

// What a service needs besides the probed field: a three-cluster deployment and every secret.
std::map<std::string, std::string> base_environment() {
    std::map<std::string, std::string> env{{"CLUSTER_HOST_TEMPLATE", "slave-{i}"}, {"CLUSTER_SIZE", "3"},
                                           {"CLUSTER_INDEX", "0"}};
    for (const ConfigField& field : cdb::config_schema()) {
        if (field.type == FieldType::secret) env[cdb::env_name_for(field.path)] = std::string(field.max, 'k');
    }
    return env;
}

// The services' verdict for both of them: "" when both accept, else the first refusal.
std::string services_refusal(const std::map<std::string, std::string>& env, const std::string& json = "") {
    const cdb::EnvLookup lookup = [env](const std::string& name) -> std::optional<std::string> {
        const auto found = env.find(name);
        if (found == env.end()) return std::nullopt;
        return found->second;
    };
    for (const cdb::ConfigUser user : {cdb::ConfigUser::slave, cdb::ConfigUser::lb}) {
        try {
            cdb::parse_config(json, lookup, user, "slave-0");
        } catch (const cdb::ConfigError& error) {
            return error.what();
        }
    }
    return "";
}

struct GeneratorRun {
    ProcessResult result;
    std::vector<std::string> written;  // what is in the output directory afterwards
};

GeneratorRun generate_with(const std::vector<std::string>& extra) {
    TemporaryDirectory dir;
    std::vector<std::string> arguments{"--target", "kind", "--replicas", "3", "--output", dir.path() + "/out.yaml"};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    GeneratorRun run{run_generator(arguments), {}};
    run.written = dir.entries();
    return run;
}

std::vector<std::string> set_arguments(const std::map<std::string, std::string>& values) {
    std::vector<std::string> arguments;
    for (const auto& [path, value] : values) {
        arguments.push_back("--set");
        arguments.push_back("config." + path + "=" + value);
    }
    return arguments;
}

std::vector<ConfigField> fields_where(bool (*wanted)(const ConfigField&)) {
    std::vector<ConfigField> fields;
    for (const ConfigField& field : cdb::config_schema()) {
        if (wanted(field)) fields.push_back(field);
    }
    return fields;
}

std::string test_name(const ::testing::TestParamInfo<ConfigField>& info) {
    std::string name = info.param.path;
    std::replace(name.begin(), name.end(), '.', '_');
    return name;
}

class SchemaWalk : public ::testing::TestWithParam<ConfigField> {};
class FileField : public ::testing::TestWithParam<ConfigField> {};
class FieldNotOfferedByTheGenerator : public ::testing::TestWithParam<ConfigField> {};

TEST_P(SchemaWalk, ServicesAndGeneratorAcceptTheExtremesAndRefuseEverythingJustOutside) {
    const ConfigField& field = GetParam();
    const std::string variable = cdb::env_name_for(field.path);
    for (const Probe& probe : probes_of(field)) {
        SCOPED_TRACE(field.path + " = \"" + probe.text + "\"");
        std::map<std::string, std::string> env = base_environment();
        const std::map<std::string, std::string> others = probe.accepted ? companions(field, probe.text)
                                                                         : std::map<std::string, std::string>{};
        for (const auto& [path, value] : others) env[cdb::env_name_for(path)] = value;
        env[variable] = probe.text;
        const std::string refusal = services_refusal(env);
        EXPECT_EQ(refusal.empty(), probe.accepted) << refusal;

        if (!field.generator_value) continue;
        std::map<std::string, std::string> sets = others;
        sets[field.path] = probe.text;
        const GeneratorRun run = generate_with(set_arguments(sets));
        if (probe.accepted) {
            EXPECT_EQ(run.result.exit_code, 0) << run.result.err;
            EXPECT_EQ(run.written, std::vector<std::string>{"out.yaml"});
        } else {
            EXPECT_EQ(run.result.exit_code, 2) << run.result.err;
            EXPECT_TRUE(run.written.empty());
            // In the services' words: the same refusal parse_config gives.
            const auto expected = cdb::value_refusal(field, probe.text);
            ASSERT_TRUE(expected.has_value() || field.type == FieldType::integer);
            if (expected) EXPECT_NE(run.result.err.find(*expected), std::string::npos) << run.result.err;
        }
    }
}

TEST_P(FileField, AValueOfTheWrongJsonTypeIsRefusedByBoth) {
    const ConfigField& field = GetParam();
    const bool wants_number = field.type == FieldType::integer;
    const std::string wrong = wants_number ? "\"1\"" : "1";  // a quoted number, or a bare one
    std::string json = wrong;
    const std::string& path = field.path;
    for (std::size_t dot = path.rfind('.'), end = path.size(); ; end = dot, dot = path.rfind('.', dot - 1)) {
        const std::size_t begin = dot == std::string::npos ? 0 : dot + 1;
        json = "{\"" + path.substr(begin, end - begin) + "\": " + json + "}";
        if (dot == std::string::npos) break;
    }
    std::map<std::string, std::string> env = base_environment();
    env.erase(cdb::env_name_for(field.path));  // else the environment would win over the file
    const std::string refusal = services_refusal(env, json);
    EXPECT_NE(refusal.find(wants_number ? "must be an integer" : "must be a string"), std::string::npos)
        << json << ": " << refusal;

    if (!field.generator_value) return;
    TemporaryDirectory values;
    write_file(values.path() + "/values.yaml", "config: " + json + "\n");
    const GeneratorRun run = generate_with({"--values", values.path() + "/values.yaml"});
    EXPECT_EQ(run.result.exit_code, 2) << json;
    EXPECT_TRUE(run.written.empty());
}

TEST_P(FieldNotOfferedByTheGenerator, CannotBeSetThroughIt) {
    const ConfigField& field = GetParam();
    const GeneratorRun run = generate_with({"--set", "config." + field.path + "=1"});
    EXPECT_EQ(run.result.exit_code, 2);
    EXPECT_NE(run.result.err.find("is not a known key"), std::string::npos) << run.result.err;
    EXPECT_TRUE(run.written.empty());
}

INSTANTIATE_TEST_SUITE_P(EveryField, SchemaWalk, ::testing::ValuesIn(cdb::config_schema()), test_name);
// A secret is never read from the file.
INSTANTIATE_TEST_SUITE_P(EveryField, FileField,
                         ::testing::ValuesIn(fields_where([](const ConfigField& field) {
                             return field.type != FieldType::secret;
                         })),
                         test_name);
INSTANTIATE_TEST_SUITE_P(EveryField, FieldNotOfferedByTheGenerator,
                         ::testing::ValuesIn(fields_where([](const ConfigField& field) {
                             return !field.generator_value;
                         })),
                         test_name);

TEST(ConfigSchema, ReplicasTakeTheRangeOfClusterSize) {
    const ConfigField& size = *cdb::find_config_field("cluster.size");
    for (const long long replicas : {size.min, size.max}) {
        TemporaryDirectory dir;
        const ProcessResult result = run_generator({"--target", "kind", "--replicas", std::to_string(replicas),
                                                    "--output", dir.path() + "/out.yaml"});
        EXPECT_EQ(result.exit_code, 0) << replicas << ": " << result.err;
    }
    for (const long long replicas : {size.min - 1, size.max + 1}) {
        const ProcessResult result = run_generator({"--target", "kind", "--replicas", std::to_string(replicas)});
        EXPECT_EQ(result.exit_code, 2) << replicas;
        EXPECT_EQ(result.out, "");
    }
}

TEST(ConfigSchema, EveryRuleBetweenFieldsIsEnforcedByBoth) {
    for (const cdb::FieldRelation& relation : cdb::config_relations()) {
        SCOPED_TRACE(relation.field + " " + cdb::to_string(relation.comparison) + " " + relation.other);
        const std::string other = cdb::find_config_field(relation.other)->default_text;
        const long long breaking = std::stoll(other) + (relation.comparison == cdb::Comparison::below ? 0 : 1);
        std::map<std::string, std::string> env = base_environment();
        env[cdb::env_name_for(relation.field)] = std::to_string(breaking);
        EXPECT_NE(services_refusal(env).find(relation.field), std::string::npos);
        const GeneratorRun run = generate_with(set_arguments({{relation.field, std::to_string(breaking)}}));
        EXPECT_EQ(run.result.exit_code, 2);
        EXPECT_NE(run.result.err.find(cdb::to_string(relation.comparison)), std::string::npos) << run.result.err;
        EXPECT_TRUE(run.written.empty());
    }
}

TEST(ConfigSchema, HelpShowsEveryOfferedFieldWithItsDefaultTypeAndRange) {
    const ProcessResult result = run_generator({"--help"});
    ASSERT_EQ(result.exit_code, 0);
    for (const ConfigField& field : cdb::config_schema()) {
        if (!field.generator_value) continue;
        const std::string type = field.type == FieldType::integer ? "int" : "string";
        const std::string line = "  config." + field.path + " = " + field.default_text + "  (" + type + "; " +
                                 cdb::accepted_values(field) + ")\n      " + field.description + "\n";
        EXPECT_NE(result.out.find(line), std::string::npos) << "--help lacks:\n" << line;
    }
}

// The table between the markers of docs/CONFIG.md is what the schema prints.
TEST(ConfigSchema, ConfigDocumentHasTheSchemasTable) {
    const std::string document = read_file(std::string(REPO_ROOT) + "/docs/CONFIG.md");
    const std::string begin_marker = "<!-- BEGIN generated";
    const std::string end_marker = "<!-- END generated";
    const auto begin = document.find(begin_marker);
    const auto end = document.find(end_marker);
    ASSERT_NE(begin, std::string::npos) << "docs/CONFIG.md lost its line " << begin_marker;
    ASSERT_NE(end, std::string::npos) << "docs/CONFIG.md lost its line " << end_marker;
    const auto table_start = document.find('\n', begin) + 1;
    EXPECT_EQ(document.substr(table_start, end - table_start), gen::config_field_table())
        << "docs/CONFIG.md's table of fields is not the schema's: run generator/regenerate.sh (it rewrites "
           "the table from `generator/generate --config-table`), then review git diff docs/CONFIG.md";
}

}  // namespace
}  // namespace gen_test
