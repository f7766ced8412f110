#include "yaml_writer.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace gen {
namespace {

// The tag yaml-cpp gives quoted scalars; here it marks "this scalar is a string".
const char* const string_tag = "!";

bool is_reserved_word(const std::string& value) {
    // YAML 1.1 booleans and nulls, in any case (quoting a harmless variant costs nothing).
    static const char* const words[] = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"};
    std::string lower = value;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return std::find(std::begin(words), std::end(words), lower) != std::end(words);
}

bool is_plain_safe_char(unsigned char ch) {
    return std::isalnum(ch) || ch == '.' || ch == '_' || ch == '/' || ch == ':' || ch == '@' || ch == '+' ||
           ch == '=' || ch == '-';
}

void write_node(YAML::Emitter& out, const YAML::Node& node, bool quote_strings);

void write_string(YAML::Emitter& out, const std::string& value, bool quote_strings) {
    if (value.find('\n') != std::string::npos) {
        out << YAML::Literal << value;
    } else if (quote_strings || needs_quotes(value)) {
        out << YAML::DoubleQuoted << value;
    } else {
        out << value;
    }
}

void write_map(YAML::Emitter& out, const YAML::Node& node) {
    if (node.size() == 0) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
    }
    out << YAML::BeginMap;
    for (const auto& entry : node) {
        // Keys are strings too: a network named 1e3 must not become a number.
        const std::string& key = entry.first.Scalar();
        out << YAML::Key;
        if (needs_quotes(key)) out << YAML::DoubleQuoted;
        out << key << YAML::Value;
        write_node(out, entry.second, false);
    }
    out << YAML::EndMap;
}

void write_sequence(YAML::Emitter& out, const YAML::Node& node) {
    // Flow sequences are argument vectors: every item quoted, as in Compose's exec form.
    const bool flow = node.Style() == YAML::EmitterStyle::Flow;
    if (flow) out << YAML::Flow;
    out << YAML::BeginSeq;
    for (const auto& item : node) write_node(out, item, flow);
    out << YAML::EndSeq;
}

void write_node(YAML::Emitter& out, const YAML::Node& node, bool quote_strings) {
    switch (node.Type()) {
        case YAML::NodeType::Map: write_map(out, node); break;
        case YAML::NodeType::Sequence: write_sequence(out, node); break;
        case YAML::NodeType::Scalar:
            if (node.Tag() == string_tag) {
                write_string(out, node.Scalar(), quote_strings);
            } else {
                out << node.Scalar();
            }
            break;
        default: throw std::logic_error("generator bug: undefined or null node in output");
    }
}

}  // namespace

YAML::Node text(const std::string& value) {
    YAML::Node node(value);
    node.SetTag(string_tag);
    return node;
}

YAML::Node scalar(const Value& value) {
    return value.type == ValueType::string ? text(value.text) : YAML::Node(value.text);
}

YAML::Node argv(const std::vector<std::string>& arguments) {
    YAML::Node sequence(YAML::NodeType::Sequence);
    for (const std::string& argument : arguments) sequence.push_back(text(argument));
    sequence.SetStyle(YAML::EmitterStyle::Flow);
    return sequence;
}

YAML::Node empty_map() { return YAML::Node(YAML::NodeType::Map); }

bool needs_quotes(const std::string& value) {
    if (value.empty() || is_reserved_word(value)) return true;
    // A leading digit, sign or dot may read as a number (8080, 0755, 1e3, .5, 1:20 in base 60);
    // other leading punctuation is YAML syntax.
    const unsigned char first = static_cast<unsigned char>(value.front());
    if (!std::isalpha(first) && first != '/') return true;
    if (value.back() == ':') return true;
    return !std::all_of(value.begin(), value.end(), [](unsigned char ch) { return is_plain_safe_char(ch); });
}

std::string to_yaml(const YAML::Node& document) {
    YAML::Emitter out;
    out.SetIndent(2);
    write_node(out, document, false);
    if (!out.good()) throw std::logic_error("generator bug: YAML emitter failed: " + out.GetLastError());
    return std::string(out.c_str()) + "\n";
}

}  // namespace gen
