// config.h — the collector's plain configuration.
//
// Owns: the settings gc/ runs with. gc/ never reads the environment: the
// runtime (runtime/options.h) parses GOGC, GOMEMLIMIT, GODEBUG and TRICOLOR_*
// and fills this struct; tests fill it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "errors.h"

namespace tricolor::gc {

struct CycleReport;

struct GcConfig {
  int gc_percent = 100;                      // < 0: off (GOGC=off)
  int64_t memory_limit_bytes = INT64_MAX;    // INT64_MAX: no limit
  size_t min_heap_bytes = size_t{4} << 20;   // smallest heap goal
  bool poison_freed = kChecked;              // fill freed slots with 0xdb
  bool verify = false;                       // walk the heap after every cycle (gc/verifier.h)
  // Called after every cycle, outside the pause, on the collecting thread.
  std::function<void(const CycleReport&)> on_cycle;
};

}  // namespace tricolor::gc
