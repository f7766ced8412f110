#include "scenario_script.h"

#include <sstream>
#include <stdexcept>

namespace cdb::coordination::testing {

namespace {
bool is_comment_or_blank(const std::string& line) {
    return line.empty() || line[0] == '#';
}
}  // namespace

ScenarioScript parse_script(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) lines.push_back(line);

    ScenarioScript script;
    std::vector<std::string> comments;
    std::size_t i = 0;
    while (i < lines.size()) {
        if (is_comment_or_blank(lines[i])) {
            comments.push_back(lines[i++]);
            continue;
        }
        ScenarioStep step;
        step.line = static_cast<int>(i) + 1;
        step.comments = std::move(comments);
        comments.clear();
        step.command = lines[i++];
        while (i < lines.size() && lines[i] != "----") step.input.push_back(lines[i++]);
        if (i == lines.size()) {
            throw std::invalid_argument("line " + std::to_string(step.line) + ": no `----` after `" + step.command +
                                        "`");
        }
        ++i;
        while (i < lines.size() && !lines[i].empty()) step.expected.push_back(lines[i++]);
        if (i < lines.size()) ++i;  // the blank line that ends the output
        script.steps.push_back(std::move(step));
    }
    script.trailer = std::move(comments);
    return script;
}

std::string format_script(const ScenarioScript& script, const std::vector<std::vector<std::string>>& outputs) {
    std::ostringstream out;
    for (std::size_t i = 0; i < script.steps.size(); ++i) {
        const ScenarioStep& step = script.steps[i];
        if (i > 0) out << '\n';
        for (const std::string& line : step.comments) out << line << '\n';
        out << step.command << '\n';
        for (const std::string& line : step.input) out << line << '\n';
        out << "----\n";
        for (const std::string& line : outputs.at(i)) out << line << '\n';
    }
    if (!script.trailer.empty()) out << '\n';
    for (const std::string& line : script.trailer) out << line << '\n';
    return out.str();
}

}  // namespace cdb::coordination::testing
