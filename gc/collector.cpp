// collector.cpp — the stop-the-world cycle (see collector.h for the order).
#include "collector.h"

#include "marker.h"
#include "mutator.h"
#include "roots.h"
#include "verifier.h"

namespace tricolor::gc {

Collector::Collector(GcConfig config) : config_(std::move(config)) {
  std::lock_guard lock(stats_mutex_);
  recompute_goal_locked();
}

Collector::~Collector() = default;

uint64_t Collector::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - created_)
      .count();
}

void Collector::recompute_goal_locked() {
  const size_t goal = heap_goal(PacerInputs{live_bytes_, config_.gc_percent, config_.memory_limit_bytes,
                                            config_.min_heap_bytes, heap_.counters().metadata_bytes});
  stats_.heap_goal_bytes = goal;
  trigger_bytes_.store(goal, std::memory_order_relaxed);
}

int Collector::set_gc_percent(int percent) {
  std::lock_guard lock(stats_mutex_);
  const int previous = config_.gc_percent;
  config_.gc_percent = percent < 0 ? -1 : percent;
  recompute_goal_locked();
  return previous;
}

int64_t Collector::set_memory_limit(int64_t bytes) {
  std::lock_guard lock(stats_mutex_);
  const int64_t previous = config_.memory_limit_bytes;
  config_.memory_limit_bytes = bytes < 0 ? 0 : bytes;
  recompute_goal_locked();
  return previous;
}

void Collector::mark(Marker& marker) {
  global_roots().trace_strong(marker);
  marker.drain();
  world_.for_each([&](Mutator& mutator) {
    mutator.scan_roots(marker);
    marker.drain();
  });
  for (std::atomic<void*>* slot : marker.weak_slots()) {
    void* target = slot->load(std::memory_order_relaxed);
    if (target != nullptr && !marker.is_marked(target)) slot->store(nullptr, std::memory_order_relaxed);
  }
  global_roots().clear_dead_weak([&](const void* target) { return marker.is_marked(target); });
}

void Collector::collect(Mutator* self, CycleReason reason) {
  const uint64_t cycles_seen = cycles_completed_.load(std::memory_order_acquire);
  // Waiting for another thread's cycle: be blocked meanwhile, so that cycle's
  // stop does not wait for us.
  if (self != nullptr) self->enter_blocking();
  std::unique_lock cycle_lock(cycle_mutex_);
  if (self != nullptr) self->leave_blocking();
  if (reason == CycleReason::kHeapGoal && cycles_completed_.load(std::memory_order_acquire) != cycles_seen &&
      heap_.heap_live_bytes() < trigger_bytes_.load(std::memory_order_relaxed))
    return;  // another thread collected while we waited

  CycleReport report;
  report.reason = reason;
  report.start_ns = now_ns();
  report.heap_before_bytes = heap_.heap_live_bytes();
  const size_t released_before = heap_.counters().released_total_bytes;

  world_.stop(self);
  const uint64_t stopped_ns = now_ns();
  report.ttsp_ns = stopped_ns - report.start_ns;
  report.mutators = world_.size();

  MarkShared shared;
  Marker marker(heap_, shared, /*exclusive=*/true);
  mark(marker);
  const uint64_t marked_ns = now_ns();
  report.mark_ns = marked_ns - stopped_ns;

  world_.for_each([](Mutator& mutator) { mutator.flush_allocation_cache(); });
  const SweepTotals totals = heap_.sweep_all(config_.poison_freed);
  {
    std::lock_guard lock(stats_mutex_);
    live_bytes_ = totals.live_bytes;
    recompute_goal_locked();
    report.goal_bytes = stats_.heap_goal_bytes;
  }
  const HeapCounters memory = heap_.counters();
  heap_.release_free_memory(
      retained_free_bytes(report.goal_bytes, memory.in_use_span_bytes + memory.large_bytes));
  report.sweep_ns = now_ns() - marked_ns;
  if (config_.verify) verify_heap(*this);
  report.cycle = cycles_completed_.load(std::memory_order_relaxed) + 1;
  cycles_completed_.store(report.cycle, std::memory_order_release);

  world_.start();
  report.pause_ns = now_ns() - report.start_ns;
  report.live_bytes = totals.live_bytes;
  report.freed_bytes = totals.freed_bytes;
  report.live_objects = totals.live_objects;
  report.freed_objects = totals.freed_objects;
  report.released_bytes = heap_.counters().released_total_bytes - released_before;
  record_cycle(report);
  cycle_lock.unlock();
  if (config_.on_cycle) config_.on_cycle(report);
}

void Collector::record_cycle(const CycleReport& report) {
  std::lock_guard lock(stats_mutex_);
  ++stats_.collections;
  if (report.reason == CycleReason::kExplicit) ++stats_.explicit_collections;
  stats_.pause_ns.record(report.pause_ns);
  stats_.ttsp_ns.record(report.ttsp_ns);
  stats_.total_pause_ns += report.pause_ns;
  stats_.live_bytes = report.live_bytes;
}

GcStats Collector::stats() {
  std::lock_guard lock(stats_mutex_);
  GcStats copy = stats_;
  copy.heap_live_bytes = heap_.heap_live_bytes();
  copy.allocated_total_bytes = heap_.allocated_total_bytes();
  copy.freed_total_bytes = heap_.freed_total_bytes();
  copy.mutators = world_.size();
  copy.memory = heap_.counters();
  return copy;
}

}  // namespace tricolor::gc
