// gctrace.cpp — the gctrace line (see gctrace.h and README.md "gctrace").
#include "gctrace.h"

#include "../map/map_stats.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cinttypes>
#include <cstdio>
#include <mutex>

namespace tricolor {
namespace {

double ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }
uint64_t mb(size_t bytes) { return bytes >> 20; }

// The "tricolor" logger: an embedder may register its own under that name
// (to route gctrace into its logs); otherwise a plain stderr logger is made.
// Looked up per line (cycles are rare), so a logger registered later wins.
std::shared_ptr<spdlog::logger> gctrace_logger() {
  static std::mutex creation_mutex;
  std::lock_guard lock(creation_mutex);
  if (auto existing = spdlog::get("tricolor")) return existing;
  auto created = spdlog::stderr_logger_mt("tricolor");
  created->set_pattern("%v");
  return created;
}

const char* reason_suffix(gc::CycleReason reason) {
  switch (reason) {
    case gc::CycleReason::kExplicit: return " (forced)";
    case gc::CycleReason::kEmergency: return " (emergency)";
    case gc::CycleReason::kStress: return " (stress)";
    case gc::CycleReason::kHeapGoal: break;
  }
  return "";
}

}  // namespace

std::string format_gctrace_line(const gc::CycleReport& r, const MapActivity& maps) {
  char goal[32];
  if (r.goal_bytes == SIZE_MAX) std::snprintf(goal, sizeof goal, "no");
  else std::snprintf(goal, sizeof goal, "%" PRIu64 " MB", mb(r.goal_bytes));
  char phases[160];
  if (r.concurrent) {
    std::snprintf(phases, sizeof phases, "%.3f+%.3f+%.3f ms clock, %.3f/%.3f/%.3f ms cpu",
                  ms(r.start_handshake_ns), ms(r.mark_ns), ms(r.end_handshake_ns), ms(r.assist_cpu_ns),
                  ms(r.background_cpu_ns), ms(r.idle_cpu_ns));
  } else {
    std::snprintf(phases, sizeof phases, "%.3f+%.3f+%.3f ms clock", ms(r.ttsp_ns), ms(r.mark_ns), ms(r.sweep_ns));
  }
  char markers[48] = "";
  if (r.concurrent)
    std::snprintf(markers, sizeof markers, ", %u+%.2f+%u markers", r.dedicated_markers, r.fractional_marker_share,
                  r.idle_markers);
  char map_part[128] = "";
  const uint64_t evacuated = maps.evacuated_by_mutators + maps.evacuated_by_workers;
  if (maps.growths != 0 || evacuated != 0)
    std::snprintf(map_part, sizeof map_part, ", map: %" PRIu64 " growths, %" PRIu64 " evacuated (%.0f%% by workers), %" PRIu64 " backlog",
                  maps.growths, evacuated,
                  evacuated == 0 ? 0.0 : 100.0 * static_cast<double>(maps.evacuated_by_workers) / static_cast<double>(evacuated),
                  maps.backlog);
  char line[448];
  std::snprintf(line, sizeof line,
                "gc %" PRIu64 " @%.3fs: %s, %" PRIu64 "->%" PRIu64 "->%" PRIu64
                " MB, %s goal, %" PRIu64 " MB released, %zu threads%s%s%s%s",
                r.cycle, static_cast<double>(r.start_ns) / 1e9, phases, mb(r.heap_before_bytes),
                mb(r.heap_at_mark_end_bytes), mb(r.live_bytes), goal, mb(r.released_bytes), r.mutators,
                markers, map_part, r.concurrent ? "" : " (stw)", reason_suffix(r.reason));
  return line;
}

void log_gctrace_line(const gc::CycleReport& report) {
  // Map counters are process-wide; each line shows what changed since the last.
  static std::mutex mutex;
  static MapStats previous;
  MapActivity activity;
  {
    std::lock_guard lock(mutex);
    const MapStats now = map_stats();
    activity.growths = now.growths + now.same_size_growths - previous.growths - previous.same_size_growths;
    activity.evacuated_by_mutators = now.evacuated_by_mutators - previous.evacuated_by_mutators;
    activity.evacuated_by_workers = now.evacuated_by_workers - previous.evacuated_by_workers;
    activity.backlog = now.evacuation_backlog;
    previous = now;
  }
  gctrace_logger()->info(format_gctrace_line(report, activity));
}

}  // namespace tricolor
