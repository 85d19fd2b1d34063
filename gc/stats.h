// stats.h — what the collector reports: per-cycle records and running totals.
//
// Owns: CycleReport (one per collection; gctrace prints it) and GcStats (the
// stats API's snapshot). All durations are nanoseconds, all sizes bytes.
// Invariant: memory.arena_bytes == memory.in_use_span_bytes +
// memory.free_span_bytes + memory.released_span_bytes in every snapshot.
#pragma once

#include <cstddef>
#include <cstdint>

#include "heap.h"
#include "histogram.h"

namespace tricolor::gc {

enum class CycleReason : uint8_t { kHeapGoal, kExplicit, kEmergency, kStress };

struct CycleReport {
  uint64_t cycle = 0;               // 1-based
  CycleReason reason = CycleReason::kHeapGoal;
  bool concurrent = false;          // which collector ran it
  uint64_t start_ns = 0;            // since the collector was created
  // Stop-the-world mode: the one pause and its parts.
  uint64_t ttsp_ns = 0;             // stop requested → every mutator stopped
  uint64_t mark_ns = 0;             // marking (concurrent: wall clock of the concurrent mark)
  uint64_t sweep_ns = 0;            // sweeping and releasing memory (concurrent: wall clock)
  uint64_t pause_ns = 0;            // stop requested → world restarted (stw mode)
  // Concurrent mode: no global pause; the mark starts and ends with
  // per-thread handshakes (each mutator stops only for its own part).
  uint64_t start_handshake_ns = 0;  // wall clock: barrier on, every mutator allocating black
  uint64_t end_handshake_ns = 0;    // wall clock: every mutator allocating white, caches handed back
  uint64_t termination_attempts = 0;  // rounds needed to prove the mark complete
  // Background markers (gc/mark_worker_plan.h), the driver included.
  unsigned dedicated_markers = 0;
  double fractional_marker_share = 0.0;  // of one thread's time (0: no fractional marker)
  unsigned idle_markers = 0;
  uint64_t assist_cpu_ns = 0;       // mark work done by allocating mutators
  uint64_t background_cpu_ns = 0;   // mark work done by the dedicated and fractional markers
  uint64_t idle_cpu_ns = 0;         // mark work done by the idle markers
  size_t heap_at_mark_end_bytes = 0;
  size_t heap_before_bytes = 0;     // heap live when the cycle started
  size_t live_bytes = 0;            // marked
  size_t freed_bytes = 0;
  size_t live_objects = 0;
  size_t freed_objects = 0;
  size_t goal_bytes = 0;            // next cycle's heap goal (SIZE_MAX: none)
  size_t released_bytes = 0;        // returned to the OS / mimalloc by this cycle
  size_t mutators = 0;
};

struct GcStats {
  uint64_t collections = 0;
  uint64_t explicit_collections = 0;
  // Every pause a mutator experienced: each global stop (decision to stop →
  // world restarted) and each per-thread handshake the mutator answered
  // (time it spent stopped in it).
  Histogram pause_ns;
  Histogram ttsp_ns;                // time-to-safepoint of each stop and handshake
  Histogram global_pause_ns;        // the global stops only
  uint64_t assist_cpu_ns = 0;       // cumulative
  uint64_t background_cpu_ns = 0;   // cumulative
  uint64_t idle_cpu_ns = 0;         // cumulative
  uint64_t total_pause_ns = 0;
  // The GC CPU limiter: updates that found the GC over its CPU share, and
  // assists skipped because of it (only with a memory limit; see pacer.h).
  uint64_t cpu_limiter_full_updates = 0;
  uint64_t assists_skipped = 0;
  size_t heap_live_bytes = 0;       // now: live after last cycle + allocated since
  size_t heap_goal_bytes = 0;       // SIZE_MAX: no goal (GOGC=off, no limit)
  size_t live_bytes = 0;            // marked by the last cycle
  size_t allocated_total_bytes = 0; // cumulative
  size_t freed_total_bytes = 0;     // cumulative
  size_t mutators = 0;
  HeapCounters memory;
};

}  // namespace tricolor::gc
