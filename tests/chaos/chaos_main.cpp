// chaos: fault injection under load (make chaos, docs/CHAOS.md). Parses options and wires the parts.
// Exit status: 0 nothing lost or wrong, 1 the check or the run failed, 2 usage, 3 deadline/interrupted.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>

#include "chaos_report.h"
#include "command_options.h"
#include "chaos_run.h"
#include "compose_deployment.h"
#include "local_deployment.h"
#include "watchdog.h"

namespace {

int usage(std::FILE* out, int status) {
    std::fprintf(out,
                 "usage: chaos [--mode local|compose] [--duration S] [--clusters N] [--clients N] [--keys N]\n"
                 "             [--slack-ms MS] [--deadline S] [--repo DIR] [--faults KIND,KIND...]\n"
                 "Fault injection under load against a system it launches with ./launch-env (docs/CHAOS.md).\n"
                 "KIND (default: the rotation of docs/CHAOS.md):");
    for (auto kind : cdb::chaos::all_fault_kinds()) std::fprintf(out, " %s", to_string(kind).c_str());
    std::fprintf(out, "\n");
    return status;
}

bool fault_list(const std::string& text, std::vector<cdb::chaos::FaultKind>& kinds) {
    std::size_t from = 0;
    while (from <= text.size()) {
        const std::size_t comma = std::min(text.find(',', from), text.size());
        auto kind = cdb::chaos::fault_kind_named(text.substr(from, comma - from));
        if (!kind) return false;
        kinds.push_back(*kind);
        from = comma + 1;
    }
    return !kinds.empty();
}

}  // namespace

int main(int argc, char** argv) {
    using namespace cdb::chaos;
    std::string mode = "local";
    std::string repo = CDB_SOURCE_DIR;
    ChaosOptions options;
    int duration = 60, deadline = 0, slack_ms = static_cast<int>(options.slack.count());
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help") return usage(stdout, 0);
        if (i + 1 >= argc) return usage(stderr, 2);
        const char* value = argv[++i];
        bool ok = true;
        if (flag == "--mode") {
            mode = value;
            ok = mode == "local" || mode == "compose";
        } else if (flag == "--repo") {
            repo = value;
        } else if (flag == "--duration") {
            ok = positive_option(value, duration);
        } else if (flag == "--clusters") {
            ok = positive_option(value, options.clusters) && options.clusters >= 2;
        } else if (flag == "--clients") {
            ok = positive_option(value, options.load.clients);
        } else if (flag == "--keys") {
            ok = positive_option(value, options.keys.count);
        } else if (flag == "--slack-ms") {
            ok = positive_option(value, slack_ms);
        } else if (flag == "--faults") {
            ok = fault_list(value, options.faults);
        } else if (flag == "--deadline") {
            ok = positive_option(value, deadline);
        } else {
            ok = false;
        }
        if (!ok) return usage(stderr, 2);
    }
    options.duration = std::chrono::seconds(duration);
    options.slack = std::chrono::milliseconds(slack_ms);
    options.keys.prefix = "chaos-" + std::to_string(std::time(nullptr)) + "-";
    // Launching (image builds on Compose), every fault's worst case, settling and reading back.
    if (deadline == 0) deadline = (mode == "compose" ? 900 : 180) + 2 * duration + 300;

    const std::string work_dir = repo + "/.run/chaos";
    std::filesystem::create_directories(work_dir);
    std::filesystem::remove(work_dir + "/commands.log");
    std::filesystem::remove(work_dir + "/history.csv");  // an earlier run's, which would mislead
    const CommandRunner commands(work_dir + "/commands.log");
    std::unique_ptr<Deployment> deployment;
    if (mode == "compose") {
        deployment = std::make_unique<ComposeDeployment>(repo, commands, work_dir);
    } else {
        deployment = std::make_unique<LocalDeployment>(repo, commands);
    }

    Watchdog watchdog(std::chrono::seconds(deadline), [&] {
        deployment->resume_paused();
        deployment->unthrottle();
        deployment->reconnect_disconnected();
        deployment->stop();
    });
    RunReport report = ChaosRun(*deployment, options, work_dir).run();
    deployment->resume_paused();
    deployment->unthrottle();
    deployment->reconnect_disconnected();
    const std::string logs_dir = work_dir + "/logs";
    std::filesystem::remove_all(logs_dir);
    if (!report.passed()) {
        if (Error error = deployment->keep_logs(logs_dir)) report.problems.push_back("keeping the logs: " + *error);
    }
    if (Error error = deployment->stop()) report.problems.push_back("stopping the system: " + *error);
    print_report(stdout, report);
    if (!report.passed()) print_log_tails(stdout, logs_dir);
    return report.passed() ? 0 : 1;
}
