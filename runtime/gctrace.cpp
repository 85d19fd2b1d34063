// gctrace.cpp — the gctrace line (see gctrace.h and README.md "gctrace").
#include "gctrace.h"

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

}  // namespace

std::string format_gctrace_line(const gc::CycleReport& r) {
  char goal[32];
  if (r.goal_bytes == SIZE_MAX) std::snprintf(goal, sizeof goal, "no");
  else std::snprintf(goal, sizeof goal, "%" PRIu64 " MB", mb(r.goal_bytes));
  char line[256];
  std::snprintf(line, sizeof line,
                "gc %" PRIu64 " @%.3fs: %.3f+%.3f+%.3f ms clock, %" PRIu64 "->%" PRIu64 "->%" PRIu64
                " MB, %s goal, %" PRIu64 " MB released, %zu threads%s",
                r.cycle, static_cast<double>(r.start_ns) / 1e9, ms(r.ttsp_ns), ms(r.mark_ns),
                ms(r.sweep_ns), mb(r.heap_before_bytes), mb(r.heap_before_bytes), mb(r.live_bytes),
                goal, mb(r.released_bytes), r.mutators,
                r.reason == gc::CycleReason::kExplicit ? " (forced)" : "");
  return line;
}

void log_gctrace_line(const gc::CycleReport& report) { gctrace_logger()->info(format_gctrace_line(report)); }

}  // namespace tricolor
