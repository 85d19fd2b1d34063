// cycle_stepper.h — a collector without its background thread, for tests
// that step a concurrent cycle by hand and check colours between steps.
#pragma once

#include <tricolor/tricolor.h>

#include "../../gc/collector.h"

namespace test {

inline tricolor::gc::GcConfig stepped_config() {
  tricolor::gc::GcConfig config;
  config.mode = tricolor::gc::CollectorMode::kConcurrent;
  config.background_driver = false;
  config.verify = true;                   // pause 2 checks reachable ⇒ marked
  config.min_heap_bytes = size_t{1} << 30;  // the pacer stays out of the way
  return config;
}

}  // namespace test
