// runtime.h — the embedder's entry point: Runtime and MutatorScope.
//
// Owns: the Runtime object (one per process at a time) that reads the options
// (runtime/options.h), creates the collector with a plain gc::GcConfig, wires
// gctrace, and offers the programmatic knobs and the stats API; and
// MutatorScope, the RAII registration of a thread as a mutator.
// Invariants: a Runtime outlives every MutatorScope made from it (destroying
// it earlier is a fatal error naming the count); a second Runtime while one
// exists is a UsageError.
#pragma once

#include <cstdint>
#include <memory>

#include "../gc/mutator.h"
#include "../gc/stats.h"
#include "options.h"

namespace tricolor {

namespace gc {
class Collector;
}

using Stats = gc::GcStats;
using CycleReport = gc::CycleReport;

class Runtime {
 public:
  // Reads GOGC, GOMEMLIMIT, GODEBUG and TRICOLOR_* (throws ConfigError).
  Runtime();
  explicit Runtime(const Options& options);
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  ~Runtime();

  // A full collection, now. From a mutator thread or any other thread.
  void collect();

  // GOGC at run time (kGcPercentOff for off); returns the previous value.
  int set_gc_percent(int percent);
  // GOMEMLIMIT at run time (kMemoryLimitOff for off); returns the previous value.
  int64_t set_memory_limit(int64_t bytes);

  // A snapshot of counters, histograms and memory accounting.
  Stats stats() const;
  const Options& options() const { return options_; }

  gc::Collector& collector() { return *collector_; }

 private:
  Options options_;
  std::unique_ptr<gc::Collector> collector_;
};

// Registers the calling thread as a mutator of `runtime` for the scope's
// lifetime: it may allocate (make<T>), hold Locals, and must poll safepoint().
class MutatorScope : public Mutator {
 public:
  explicit MutatorScope(Runtime& runtime);
};

}  // namespace tricolor
