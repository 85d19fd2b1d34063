// config.h — the collector's plain configuration.
//
// Owns: the settings gc/ runs with. gc/ never reads the environment: the
// runtime (runtime/options.h) parses GOGC, GOMEMLIMIT, GODEBUG and TRICOLOR_*
// and fills this struct; tests fill it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "errors.h"

namespace tricolor::gc {

struct CycleReport;

enum class CollectorMode : uint8_t {
  kConcurrent,  // concurrent mark and sweep; pauses do O(threads) work
  kStw,         // everything in one pause: the correctness oracle, a baseline
};

struct GcConfig {
  CollectorMode mode = CollectorMode::kConcurrent;
  int gc_percent = 100;                      // < 0: off (GOGC=off)
  int64_t memory_limit_bytes = INT64_MAX;    // INT64_MAX: no limit
  size_t min_heap_bytes = size_t{4} << 20;   // smallest heap goal
  bool poison_freed = kChecked;              // fill freed slots with 0xdb
  bool verify = false;                       // verify marking/sweeping every cycle (gc/verifier.h)
  // Concurrent mode: run cycles on a background driver thread. Tests that
  // step a cycle by hand (Collector::begin_mark() ...) turn it off.
  bool background_driver = true;
  // Dedicated background markers, the driver included (0: Go's plan, a
  // quarter of the cores with a fractional marker for what does not round;
  // gc/mark_worker_plan.h). A count here means no fractional marker.
  unsigned mark_workers = 0;
  // Markers at idle priority, for CPU nobody else uses (< 0: every core the
  // plan left over; 0: none).
  int idle_mark_workers = -1;
  // The GC CPU limiter's window (gc/pacer.h, CpuLimiter): it limits once the
  // GC has taken more than half of the CPU by this many core-nanoseconds per
  // core. Go's is one second; tests shorten it.
  uint64_t cpu_limiter_window_ns = 1'000'000'000;
  // Hard limit on heap live bytes (0: none). An allocation that would pass it
  // first gets one emergency full collection; if it still does not fit, the
  // allocation throws HeapExhausted and the heap stays as it was.
  size_t hard_limit_bytes = 0;
  // Stress modes (tests): start a cycle every stress_alloc_bytes allocated
  // (0: off); with stress_seed != 0, random cycle starts, random delays in
  // handshakes and random yields of the background marker.
  size_t stress_alloc_bytes = 0;
  uint64_t stress_seed = 0;
  // Chrome trace-event timeline of every phase, handshake, assist slice and
  // deferred-work item, written when the collector is destroyed ("": off).
  std::string trace_path;
  // Called after every cycle, outside the pause, on the collecting thread.
  std::function<void(const CycleReport&)> on_cycle;
};

}  // namespace tricolor::gc
