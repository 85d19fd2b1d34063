// cycle_stepper.h — a collector without its background thread, for tests
// that step a concurrent cycle by hand and check colours between steps.
#pragma once

#include <tricolor/tricolor.h>

#include <functional>

#include "../../gc/collector.h"

namespace test {

inline tricolor::gc::GcConfig stepped_config() {
  tricolor::gc::GcConfig config;
  config.mode = tricolor::gc::CollectorMode::kConcurrent;
  config.background_driver = false;
  config.verify = true;                   // the end of the mark checks reachable ⇒ marked
  config.min_heap_bytes = size_t{1} << 30;  // the pacer stays out of the way
  return config;
}

// Runs one whole concurrent cycle by hand, `m` being the only mutator;
// `while_marking` runs once the mark has begun, before any object is traced.
inline void run_stepped_cycle(tricolor::gc::Collector& collector, tricolor::Mutator& m,
                              const std::function<void()>& while_marking = {}) {
  collector.begin_mark(&m, tricolor::gc::CycleReason::kExplicit);
  collector.mark_global_roots();
  if (while_marking) while_marking();
  collector.scan_mutator_roots(&m);
  do {
    collector.drain_background(SIZE_MAX);
    collector.flush_barrier_buffers(&m);
  } while (!collector.mark_looks_complete() || !collector.try_end_mark(&m));
  collector.sweep_and_finish();
}

}  // namespace test
