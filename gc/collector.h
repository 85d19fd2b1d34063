// collector.h — the cycle driver of the stop-the-world mark-sweep collector.
//
// A cycle, in order (all inside one pause in this stop-the-world collector,
// the correctness oracle the concurrent collector is checked against):
//   1. stop: every mutator reaches a safepoint or is inside a BlockingRegion
//      (gc/world.h); the time this takes is the time-to-safepoint.
//   2. mark: global roots (Persistent), then each mutator's roots (its root
//      scanner, its Local handles, objects under construction), then
//      transitively every reachable object (gc/marker.h).
//   3. weak: weak slots and WeakRefs whose target stayed white are nulled.
//   4. sweep: allocation caches are flushed, every span is swept (dead objects'
//      destructors run, slots become free), empty spans and dead large objects
//      are freed, memory beyond the next goal goes back to the OS.
//   5. pace: the next heap goal from the live bytes (gc/pacer.h).
//   6. start: mutators resume; the pause ends here.
// A cycle starts when an allocation finds heap live ≥ goal, or on collect().
// Invariant: at most one cycle runs at a time (the cycle lock); a mutator
// waiting for that lock counts as blocked so it cannot hold the world back.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "config.h"
#include "heap.h"
#include "pacer.h"
#include "stats.h"
#include "world.h"

namespace tricolor {
class Mutator;
}

namespace tricolor::gc {

class Marker;

class Collector {
 public:
  explicit Collector(GcConfig config);
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;
  ~Collector();

  // Runs a full cycle. `self` is the calling mutator, or null.
  void collect(Mutator* self, CycleReason reason);
  // Called from allocation slow paths: collects if the heap reached its goal.
  void collect_if_due(Mutator& self) {
    if (heap_.heap_live_bytes() >= trigger_bytes_.load(std::memory_order_relaxed)) [[unlikely]]
      collect(&self, CycleReason::kHeapGoal);
  }

  // Return the previous value; the new goal applies at once.
  int set_gc_percent(int percent);
  int64_t set_memory_limit(int64_t bytes);

  GcStats stats();
  Heap& heap() { return heap_; }
  World& world() { return world_; }
  uint64_t now_ns() const;

 private:
  void recompute_goal_locked();
  void mark(Marker& marker);
  void record_cycle(const CycleReport& report);

  GcConfig config_;
  Heap heap_;
  World world_;
  std::mutex cycle_mutex_;           // one cycle at a time
  std::mutex stats_mutex_;           // guards stats_ and settings
  GcStats stats_;
  size_t live_bytes_ = 0;
  std::atomic<size_t> trigger_bytes_{SIZE_MAX};
  std::atomic<uint64_t> cycles_completed_{0};
  const std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
};

}  // namespace tricolor::gc
