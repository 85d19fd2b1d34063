// gctrace.h — GODEBUG=gctrace=1: one line per collection on stderr, via spdlog.
//
// Owns: the formatting of a CycleReport as a Go-style trace line (documented
// field by field in README.md) and the "tricolor" spdlog logger it writes to.
#pragma once

#include <string>

#include "../gc/stats.h"

namespace tricolor {

// "gc 3 @1.204s: 0.004+1.2+0.31 ms clock, 9->9->4 MB, 8 MB goal, 0 MB released, 2 threads"
std::string format_gctrace_line(const gc::CycleReport& report);
// Writes the line through the "tricolor" spdlog logger (stderr).
void log_gctrace_line(const gc::CycleReport& report);

}  // namespace tricolor
