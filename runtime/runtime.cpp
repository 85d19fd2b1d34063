// runtime.cpp — Runtime and MutatorScope (see runtime.h).
#include "runtime.h"

#include <atomic>
#include <string>

#include "../gc/collector.h"
#include "../gc/errors.h"
#include "gctrace.h"

namespace tricolor {
namespace {

std::atomic<Runtime*> g_runtime{nullptr};

gc::GcConfig config_from(const Options& options) {
  gc::GcConfig config;
  config.gc_percent = options.gc_percent;
  config.memory_limit_bytes = options.memory_limit_bytes;
  config.min_heap_bytes = static_cast<size_t>(options.min_heap_bytes);
  config.verify = options.verify;
  config.mode = options.concurrent ? gc::CollectorMode::kConcurrent : gc::CollectorMode::kStw;
  config.hard_limit_bytes = static_cast<size_t>(options.hard_limit_bytes);
  config.stress_alloc_bytes = options.stress.alloc_bytes;
  config.stress_seed = options.stress.seed;
  config.trace_path = options.trace_path;
  config.mark_workers = options.mark_workers;
  config.idle_mark_workers = options.idle_mark_workers;
  if (options.gctrace) config.on_cycle = log_gctrace_line;
  return config;
}

}  // namespace

Runtime::Runtime() : Runtime(Options::from_env()) {}

Runtime::Runtime(const Options& options) : options_(options) {
  Runtime* expected = nullptr;
  if (!g_runtime.compare_exchange_strong(expected, this))
    throw UsageError("tricolor: a Runtime already exists in this process; there can be one at a time");
  collector_ = std::make_unique<gc::Collector>(config_from(options));
}

Runtime::~Runtime() {
  const size_t mutators = collector_->world().size();
  if (mutators != 0)
    gc::fatal("Runtime destroyed while " + std::to_string(mutators) +
              " MutatorScope(s) still exist; destroy them first");
  collector_.reset();
  g_runtime.store(nullptr);
}

void Runtime::collect() { collector_->collect(Mutator::current(), gc::CycleReason::kExplicit); }

int Runtime::set_gc_percent(int percent) {
  if (percent < kGcPercentOff)
    throw UsageError("tricolor: set_gc_percent(" + std::to_string(percent) +
                     "): expected a percentage >= 0 or kGcPercentOff (-1) for off");
  return collector_->set_gc_percent(percent);
}

int64_t Runtime::set_memory_limit(int64_t bytes) {
  if (bytes < 0)
    throw UsageError("tricolor: set_memory_limit(" + std::to_string(bytes) +
                     "): expected a byte count >= 0 or kMemoryLimitOff for off");
  return collector_->set_memory_limit(bytes);
}

Stats Runtime::stats() const { return collector_->stats(); }

MutatorScope::MutatorScope(Runtime& runtime) : Mutator(runtime.collector()) {}

}  // namespace tricolor
