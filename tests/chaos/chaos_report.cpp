#include "chaos_report.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

namespace cdb::chaos {
namespace {

std::string seconds(Micros time, int decimals = 1) {
    char text[32];
    std::snprintf(text, sizeof text, "%.*f s", decimals, static_cast<double>(time) / 1e6);
    return text;
}

std::string with_note(long count, const char* note) {
    return std::to_string(count) + (count > 0 ? std::string(" (") + note + ")" : "");
}

void print_table(std::FILE* out, const std::vector<std::pair<std::string, std::string>>& rows) {
    std::size_t width = std::string("measure").size();
    for (const auto& row : rows) width = std::max(width, row.first.size());
    std::fprintf(out, "| %-*s | value\n|%s|---\n", static_cast<int>(width), "measure", std::string(width + 2, '-').c_str());
    for (const auto& [name, value] : rows) std::fprintf(out, "| %-*s | %s\n", static_cast<int>(width), name.c_str(), value.c_str());
}

}  // namespace

std::string fault_line(const FaultRecord& fault) {
    std::string line = "[" + seconds(fault.injected) + "] " + fault.description + ": ";
    line += fault.settled >= 0 ? "settled " + seconds(fault.settled - fault.injected) + " later (" +
                                     seconds(fault.settled - fault.undone) + " after undoing it)"
                               : "FAILED";
    if (!fault.note.empty()) line += "; " + fault.note;
    return line;
}

void print_report(std::FILE* out, const RunReport& report) {
    const CheckResult& check = report.check;
    std::fprintf(out, "\n== chaos: %s mode, %d clusters, replication %s, %d clients, %d keys, %s of load\n",
                 report.mode.c_str(), report.clusters, report.replication_mode.c_str(), report.clients, report.keys,
                 seconds(report.load_time).c_str());
    if (check.operations() == 0) {  // the run stopped before any load: only its problems matter
        for (const auto& problem : report.problems) std::fprintf(out, "problem: %s\n", problem.c_str());
        std::fprintf(out, "result: FAIL\n");
        return;
    }
    std::fprintf(out, "faults (%zu):\n", report.faults.size());
    for (const auto& fault : report.faults) std::fprintf(out, "  %s\n", fault_line(fault).c_str());

    std::vector<std::pair<std::string, std::string>> rows{
        {"operations", std::to_string(check.operations()) + " (reads " + std::to_string(check.reads) + ", writes " +
                           std::to_string(check.writes) + ")"},
        {"writes acknowledged synced", std::to_string(check.writes_synced)},
        {"writes acknowledged degraded/async/none", std::to_string(check.writes_unprotected)},
        {"writes not acknowledged", std::to_string(check.writes_unacknowledged)},
    };
    for (const auto& [kind, counts] : check.outcomes) {
        rows.emplace_back("outcome " + kind,
                          "reads " + std::to_string(counts.reads) + ", writes " + std::to_string(counts.writes));
    }
    rows.insert(rows.end(), {
        {"longest request", seconds(check.longest, 3) + " (bound " + seconds(report.bound, 3) + "): " + check.longest_request},
        {"requests over the bound", std::to_string(check.too_slow)},
        {"acknowledged writes lost: synced", std::to_string(check.lost_synced)},
        {"acknowledged writes lost: degraded/async/none", with_note(check.lost_unprotected, "allowed: only the leader had them")},
        {"reads of never-written values", std::to_string(check.reads_never_written)},
        {"stale reads (missed a synced write)", std::to_string(check.reads_stale)},
        {"final values of unacknowledged writes", with_note(check.final_from_unacknowledged, "allowed: may apply late")},
        {"keys unreadable at the end", std::to_string(check.final_unreadable)},
        {"keys not linearizable", std::to_string(check.linearizability.not_linearizable) + " of " +
                                      std::to_string(check.linearizability.keys)},
        {"keys unknown (search over its time budget)", std::to_string(check.linearizability.unknown)},
        {"keys linearizable only if degraded writes were lost",
         with_note(check.linearizability.only_if_degraded_lost, "allowed: only the leader had them")},
    });
    print_table(out, rows);

    for (const auto& problem : report.problems) std::fprintf(out, "problem: %s\n", problem.c_str());
    for (const auto& problem : check.problems) std::fprintf(out, "violation: %s\n", problem.c_str());
    if (!report.history_file.empty()) std::fprintf(out, "history: %s\n", report.history_file.c_str());
    std::fprintf(out, "result: %s\n", report.passed() ? "PASS" : "FAIL");
}

void print_log_tails(std::FILE* out, const std::string& dir) {
    constexpr std::size_t lines_per_log = 15;
    std::error_code failure;
    std::vector<std::filesystem::path> logs;
    for (const auto& entry : std::filesystem::directory_iterator(dir, failure)) logs.push_back(entry.path());
    std::sort(logs.begin(), logs.end());
    for (const auto& path : logs) {
        std::ifstream file(path);
        std::deque<std::string> tail;
        for (std::string line; std::getline(file, line);) {
            tail.push_back(line);
            if (tail.size() > lines_per_log) tail.pop_front();
        }
        std::fprintf(out, "== %s (last %zu lines)\n", path.string().c_str(), tail.size());
        for (const auto& line : tail) std::fprintf(out, "%s\n", line.c_str());
    }
}

}  // namespace cdb::chaos
