#pragma once
// The chaos run's output: one line per fault as it happens, and the table at the end.
#include <cstdio>
#include <string>

#include "chaos_run.h"

namespace cdb::chaos {

std::string fault_line(const FaultRecord& fault);
void print_report(std::FILE* out, const RunReport& report);

}  // namespace cdb::chaos
