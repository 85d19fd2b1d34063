// gctrace.h — GODEBUG=gctrace=1: one line per collection on stderr, via spdlog.
//
// Owns: the formatting of a CycleReport as a Go-style trace line (documented
// field by field in README.md) and the "tricolor" spdlog logger it writes to.
#pragma once

#include <string>

#include <cstdint>

#include "../gc/stats.h"

namespace tricolor {

// concurrent: "gc 3 @1.204s: 0.012+5.300+0.020 ms clock, 0.100/4.900 ms cpu, 9->10->4 MB, 8 MB goal, 0 MB released, 2 threads"
// stw:        "gc 3 @1.204s: 0.004+1.200+0.310 ms clock, 9->9->4 MB, 8 MB goal, 0 MB released, 2 threads (stw)"
// Map growth work since the previous line (map/map_stats.h): printed as
// ", map: G growths, E evacuated (W% by workers), B backlog" when any map
// grew or evacuated since then.
struct MapActivity {
  uint64_t growths = 0;  // doubling and same-size
  uint64_t evacuated_by_mutators = 0;
  uint64_t evacuated_by_workers = 0;
  uint64_t backlog = 0;  // old buckets still to move, now
};
std::string format_gctrace_line(const gc::CycleReport& report, const MapActivity& maps = {});
// Writes the line through the "tricolor" spdlog logger (stderr).
void log_gctrace_line(const gc::CycleReport& report);

}  // namespace tricolor
