#include "chaos_run.h"

#include <cstdio>
#include <fstream>
#include <thread>

#include "cdb/config.h"
#include "chaos_report.h"

namespace cdb::chaos {
namespace {

// The LB tries a request on at most this many slaves (services/lb/main.cpp, docs/PROTOCOL.md §8).
constexpr int lb_attempts = 3;
// About what one fault takes, outage and settling included: none starts later before the end.
constexpr auto fault_budget = std::chrono::seconds(12);
constexpr auto final_reads_budget = std::chrono::seconds(60);
constexpr auto final_read_timeout = std::chrono::seconds(5);

Micros micros(std::chrono::milliseconds time) { return time.count() * 1000; }

double in_seconds(Micros time) { return static_cast<double>(time) / 1e6; }

}  // namespace

ChaosRun::ChaosRun(Deployment& deployment, ChaosOptions options, std::string work_dir)
    : deployment_(deployment), options_(std::move(options)), work_dir_(std::move(work_dir)) {}

bool ChaosRun::read_configuration(RunReport& report) {
    const auto env = deployment_.lb_environment();
    try {
        const auto config = parse_config(
            "",
            [&](const std::string& name) -> std::optional<std::string> {
                auto found = env.find(name);
                return found == env.end() ? std::nullopt : std::optional<std::string>(found->second);
            },
            ConfigUser::lb, "");
        const int per_attempt = config.http.upstream_connect_timeout_ms + config.http.upstream_timeout_ms;
        report.bound = micros(std::chrono::milliseconds(lb_attempts * per_attempt)) + micros(options_.slack);
        report.bound_rule = std::to_string(lb_attempts) + " attempts x (connect " +
                            std::to_string(config.http.upstream_connect_timeout_ms) + " + answer " +
                            std::to_string(config.http.upstream_timeout_ms) + " ms) + " +
                            std::to_string(options_.slack.count()) + " ms slack";
        report.replication_mode = to_string(config.replication.mode);
        return true;
    } catch (const ConfigError& error) {
        report.problems.push_back(std::string("cannot read the LB's configuration from its environment: ") + error.what());
        return false;
    }
}

void ChaosRun::inject_faults(FaultInjector& faults, RunReport& report, Clock::time_point epoch) {
    // A kind this deployment or machine cannot do (a disconnection in local mode, a throttle without a
    // cgroup cpu controller) is left out and said so; only a run left with no fault at all fails.
    std::vector<FaultKind> kinds;
    for (FaultKind kind : options_.faults.empty() ? default_rotation() : options_.faults) {
        if (Error why = faults.cannot(kind)) {
            std::printf("chaos: fault %s left out: %s\n", to_string(kind).c_str(), why->c_str());
        } else {
            kinds.push_back(kind);
        }
    }
    std::fflush(stdout);
    if (kinds.empty()) {
        report.problems.push_back("none of the faults asked for can run in " + deployment_.mode() + " mode here");
        return;
    }
    const Micros end = options_.duration.count() * 1000000;
    const Micros budget = std::chrono::duration_cast<std::chrono::microseconds>(fault_budget).count();
    for (std::size_t i = 0; i < kinds.size() || since(epoch) + budget <= end; ++i) {
        FaultRecord record = faults.inject(kinds[i % kinds.size()], static_cast<int>(i / kinds.size()));
        std::printf("%s\n", fault_line(record).c_str());
        std::fflush(stdout);
        report.faults.push_back(record);
        if (record.problem) {
            report.problems.push_back(*record.problem);
            return;  // a system that did not recover would only turn later faults into noise
        }
        std::this_thread::sleep_for(options_.quiet);
    }
    const Micros left = end - since(epoch);
    if (left > 0) std::this_thread::sleep_for(std::chrono::microseconds(left));
}

std::vector<FinalRead> ChaosRun::read_back(const LbObserver& lb, RunReport& report) const {
    std::vector<FinalRead> finals;
    if (Error unsettled = lb.wait_settled(options_.clusters, options_.timing.recovery)) {
        report.problems.push_back("the system did not settle after the load stopped; " + *unsettled);
    }
    const auto deadline = Clock::now() + final_reads_budget;
    for (int index = 0; index < options_.keys.count; ++index) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        const std::string key = options_.keys.name(index);
        finals.push_back(left.count() > 0 ? lb.read_final(options_.keys, key, std::min<std::chrono::milliseconds>(
                                                                                   left, final_read_timeout))
                                          : FinalRead{key, false, std::nullopt});
    }
    return finals;
}

void ChaosRun::save_history(const History& history, RunReport& report) const {
    report.history_file = work_dir_ + "/history.csv";
    std::ofstream out(report.history_file);
    out << "operation,key,value,start_us,end_us,outcome,replication\n";
    for (const Write& write : history.writes) {
        out << "write," << write.key << ',' << write.value << ',' << write.start << ',' << write.end << ','
            << write.outcome.kind() << ',' << write.replication << '\n';
    }
    for (const Read& read : history.reads) {
        out << "read," << read.key << ',' << read.value.value_or("") << ',' << read.start << ',' << read.end << ','
            << read.outcome.kind() << ",\n";
    }
}

RunReport ChaosRun::run() {
    RunReport report;
    report.mode = deployment_.mode();
    report.clusters = options_.clusters;
    report.clients = options_.load.clients;
    report.keys = options_.keys.count;
    std::printf("chaos: launching %d clusters (%s mode)...\n", options_.clusters, report.mode.c_str());
    std::fflush(stdout);
    if (Error error = deployment_.launch(options_.clusters)) {
        report.problems.push_back("launch: " + *error);
        return report;
    }
    if (!read_configuration(report)) return report;
    LbObserver lb(deployment_.lb());
    if (Error unsettled = lb.wait_settled(options_.clusters, options_.timing.recovery)) {
        report.problems.push_back("the system did not settle after its launch; " + *unsettled);
        return report;
    }
    std::printf("chaos: %d clients on http://%s:%d for %lld s; a request may take %.1f s (%s)\n",
                options_.load.clients, deployment_.lb().host.c_str(), deployment_.lb().port,
                static_cast<long long>(options_.duration.count()), in_seconds(report.bound), report.bound_rule.c_str());
    std::fflush(stdout);

    const auto epoch = Clock::now();
    LoadOptions load_options = options_.load;
    load_options.request_timeout = std::chrono::milliseconds(report.bound / 1000) + std::chrono::seconds(5);
    LoadGenerator load(deployment_.lb(), options_.keys, load_options, epoch);
    load.start();
    std::this_thread::sleep_for(options_.warmup);
    FaultInjector faults(deployment_, lb, options_.clusters, options_.timing, epoch);
    inject_faults(faults, report, epoch);
    const History history = load.stop();
    report.load_time = since(epoch);

    const auto finals = read_back(lb, report);
    report.check = HistoryChecker().check(history, finals, report.bound);
    if (!report.passed()) save_history(history, report);
    return report;
}

}  // namespace cdb::chaos
