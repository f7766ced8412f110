#pragma once
// The chaos run's output: one line per fault as it happens, and the table at the end.
#include <cstdio>
#include <string>

#include "chaos_run.h"

namespace cdb::chaos {

std::string fault_line(const FaultRecord& fault);
void print_report(std::FILE* out, const RunReport& report);
// The last lines of every log kept in `dir`, sorted by name: what a run that failed on a distant
// machine (CI) leaves to read.
void print_log_tails(std::FILE* out, const std::string& dir);

}  // namespace cdb::chaos
