// load_check: the chaos run's clients and check against a system that runs already, while someone
// else hurts it (the end-to-end tests: a rolling restart, a pod deleted, a scale-down). It sends
// load until a file appears or a time limit passes, reads every key back once the system has
// settled, and judges the history like make chaos does (docs/CHAOS.md). It prints the report and a
// last line "load_check: R requests, F failed (...)": failed requests are reported, not judged, so
// each caller holds them to its own goal. Exit status: 0 nothing lost or wrong, 1 the check failed,
// 2 usage.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "chaos_report.h"
#include "command_options.h"
#include "chaos_run.h"
#include "lb_observer.h"
#include "load_generator.h"

namespace {

int usage(std::FILE* out, int status) {
    std::fprintf(out,
                 "usage: load_check --lb HOST:PORT [--clients N] [--keys N] [--clusters N] [--until-file PATH]\n"
                 "                  [--max-seconds S] [--bound-ms MS]\n"
                 "Load until PATH exists (or S seconds, 600 at most), then every key read back once N clusters are\n"
                 "ready, and the history checked as make chaos does. --bound-ms: the longest a request may take\n"
                 "(default 7900, the LB's default bound plus 1 s of slack).\n");
    return status;
}

// Requests that did not succeed, by outcome; a read's 404 is the key being absent, an answer.
std::map<std::string, int> failed_requests(const cdb::chaos::History& history) {
    std::map<std::string, int> failed;
    for (const auto& write : history.writes) {
        if (!write.outcome.ok()) ++failed["write " + write.outcome.kind()];
    }
    for (const auto& read : history.reads) {
        if (!read.outcome.ok() && read.outcome.status != 404) ++failed["read " + read.outcome.kind()];
    }
    return failed;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace cdb::chaos;
    Endpoint lb;
    std::string until_file;
    int clients = 64, keys = 100, clusters = 0, max_seconds = 600, bound_ms = 7900;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help") return usage(stdout, 0);
        if (i + 1 >= argc) return usage(stderr, 2);
        const char* value = argv[++i];
        bool ok = true;
        if (flag == "--lb") {
            const std::string text = value;
            const auto colon = text.rfind(':');
            ok = colon != std::string::npos && positive_option(text.c_str() + colon + 1, lb.port);
            lb.host = text.substr(0, colon);
        } else if (flag == "--clients") {
            ok = positive_option(value, clients);
        } else if (flag == "--keys") {
            ok = positive_option(value, keys);
        } else if (flag == "--clusters") {
            ok = positive_option(value, clusters);
        } else if (flag == "--until-file") {
            until_file = value;
        } else if (flag == "--max-seconds") {
            ok = positive_option(value, max_seconds) && max_seconds <= 600;
        } else if (flag == "--bound-ms") {
            ok = positive_option(value, bound_ms);
        } else {
            ok = false;
        }
        if (!ok) return usage(stderr, 2);
    }
    if (lb.host.empty()) return usage(stderr, 2);

    const auto epoch = Clock::now();
    KeySpace key_space{"load-check-" + std::to_string(std::time(nullptr)) + "-", keys};
    LoadOptions options;
    options.clients = clients;
    options.request_timeout = std::chrono::milliseconds(bound_ms) + std::chrono::seconds(5);
    LoadGenerator load(lb, key_space, options, epoch);
    load.start();
    std::printf("load_check: %d clients on http://%s:%d\n", clients, lb.host.c_str(), lb.port);
    std::fflush(stdout);
    const auto deadline = epoch + std::chrono::seconds(max_seconds);
    while (Clock::now() < deadline && (until_file.empty() || !std::filesystem::exists(until_file))) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const History history = load.stop();

    RunReport report;
    report.mode = "external";
    report.clients = clients;
    report.keys = keys;
    report.bound = static_cast<Micros>(bound_ms) * 1000;
    report.bound_rule = "--bound-ms";
    report.load_time = since(epoch);
    const LbObserver observer(lb);
    if (clusters > 0) {
        if (Error unsettled = observer.wait_settled(clusters, std::chrono::seconds(60))) {
            report.problems.push_back("the system did not settle after the load stopped; " + *unsettled);
        }
    }
    std::vector<FinalRead> finals;
    for (int index = 0; index < keys; ++index) {
        finals.push_back(observer.read_final(key_space, key_space.name(index), std::chrono::seconds(5)));
    }
    report.check = HistoryChecker().check(history, finals, report.bound);
    print_report(stdout, report);
    int failed = 0;
    std::string by_outcome;
    for (const auto& [outcome, count] : failed_requests(history)) {
        failed += count;
        by_outcome += (by_outcome.empty() ? "" : ", ") + std::to_string(count) + " " + outcome;
    }
    std::printf("load_check: %zu requests, %d failed%s\n", history.writes.size() + history.reads.size(), failed,
                by_outcome.empty() ? "" : (" (" + by_outcome + ")").c_str());
    return report.passed() ? 0 : 1;
}
