#pragma once
// One chaos run (docs/CHAOS.md): launch a system, put it under load, inject every fault in turn for
// at least the duration, read every key once it has settled, and judge the history.
#include <string>
#include <vector>

#include "deployment.h"
#include "fault_injector.h"
#include "history_checker.h"
#include "load_generator.h"

namespace cdb::chaos {

struct ChaosOptions {
    int clusters = 3;
    std::chrono::seconds duration{60};
    KeySpace keys;
    LoadOptions load;
    FaultTiming timing;
    std::vector<FaultKind> faults;           // in turn; empty: every kind the default rotation has
    std::chrono::milliseconds slack{1000};   // added to the configured bound on a request's time
    std::chrono::milliseconds warmup{3000};  // of load before the first fault
    std::chrono::milliseconds quiet{2000};   // of load between a settled system and the next fault
};

struct RunReport {
    std::string mode;
    int clusters = 0;
    int clients = 0;
    int keys = 0;
    std::string replication_mode;
    Micros bound = 0;
    std::string bound_rule;  // how the bound comes from the LB's configuration
    Micros load_time = 0;
    std::vector<FaultRecord> faults;
    CheckResult check;
    std::vector<std::string> problems;  // the run's own: launch, faults, settling, reading back
    std::string history_file;            // written when the run fails

    bool passed() const { return problems.empty() && check.passed(); }
};

class ChaosRun {
public:
    ChaosRun(Deployment& deployment, ChaosOptions options, std::string work_dir);
    RunReport run();

private:
    bool read_configuration(RunReport& report);
    void inject_faults(FaultInjector& faults, RunReport& report, Clock::time_point epoch);
    std::vector<FinalRead> read_back(const LbObserver& lb, RunReport& report) const;
    void save_history(const History& history, RunReport& report) const;

    Deployment& deployment_;
    const ChaosOptions options_;
    const std::string work_dir_;
};

}  // namespace cdb::chaos
