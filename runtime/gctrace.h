// gctrace.h — GODEBUG=gctrace=1: one line per collection on stderr, via spdlog.
//
// Owns: the formatting of a CycleReport as a Go-style trace line (documented
// field by field in README.md) and the "tricolor" spdlog logger it writes to.
#pragma once

#include <string>

#include "../gc/stats.h"

namespace tricolor {

// concurrent: "gc 3 @1.204s: 0.012+5.300+0.020 ms clock, 0.100/4.900 ms cpu, 9->10->4 MB, 8 MB goal, 0 MB released, 2 threads"
// stw:        "gc 3 @1.204s: 0.004+1.200+0.310 ms clock, 9->9->4 MB, 8 MB goal, 0 MB released, 2 threads (stw)"
std::string format_gctrace_line(const gc::CycleReport& report);
// Writes the line through the "tricolor" spdlog logger (stderr).
void log_gctrace_line(const gc::CycleReport& report);

}  // namespace tricolor
