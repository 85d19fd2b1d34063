// mark_workers.h — background markers beside the collector's driver thread.
//
// Owns: the pool of marker threads planned by mark_worker_plan.h, minus the
// driver (which is the first dedicated marker, or the fractional one when no
// core is dedicated). While a concurrent mark runs, its threads drain the
// shared mark queue with markers of their own; otherwise they sleep.
//  - dedicated markers mark all the time;
//  - the fractional marker marks a share of one thread's time (FractionalShare);
//  - idle markers mark only while the process leaves a core spare (Go's idle
//    Ps): fewer running mutators than cores left over by the dedicated
//    markers and by the fractional marker while it is in a slice (the
//    driver or the pool's fractional worker says so through
//    set_fractional_marking). They mark in short slices and look again between
//    slices, so a mutator that wakes up gets its core back within a slice;
//    kept off the cores, they look again less and less often (RecheckBackoff),
//    since each look wakes a thread that preempts a mutator.
// When mark work runs dry, a pool marker runs a slice of deferred work
// (deferred_work.h) if no one else is.
// Invariants: a worker holds grey objects only while busy (marker.h), so
// termination rounds see its work; after end_mark() returns no worker touches
// mark state until the next start_mark(). Every marker runs at the
// process's normal priority: one holding grey objects is never starved by
// the OS for longer than the mutators are.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "mark_worker_plan.h"

namespace tricolor::gc {

class Heap;
struct MarkShared;

class MarkWorkers {
 public:
  enum class Role : uint8_t { kDedicated, kFractional, kIdle };

  // Starts `pool` threads (its `fractional` share, if any, is one thread).
  // `run_deferred_slice`: runs one slice of deferred work if none is running,
  // false when it ran nothing. `spare_cores`: how many idle markers may mark
  // right now.
  MarkWorkers(Heap& heap, const MarkWorkerPlan& pool, std::function<bool()> run_deferred_slice,
              std::function<unsigned()> spare_cores);
  MarkWorkers(const MarkWorkers&) = delete;
  MarkWorkers& operator=(const MarkWorkers&) = delete;
  ~MarkWorkers();

  unsigned count() const { return static_cast<unsigned>(workers_.size()); }
  unsigned count(Role role) const;
  // Wakes the workers to mark into `shared` until end_mark().
  void start_mark(MarkShared& shared);
  // Returns once every worker has left the mark (its marker published).
  void end_mark();
  // CPU the dedicated and fractional / the idle workers spent in mark
  // slices, since the last take (counted slice by slice, so a mark in
  // progress shows: the CPU limiter reads it without taking).
  uint64_t take_cpu_ns() { return cpu_ns_.exchange(0, std::memory_order_relaxed); }
  uint64_t take_idle_cpu_ns() { return idle_cpu_ns_.exchange(0, std::memory_order_relaxed); }
  uint64_t untaken_cpu_ns() const { return cpu_ns_.load(std::memory_order_relaxed); }
  uint64_t untaken_idle_cpu_ns() const { return idle_cpu_ns_.load(std::memory_order_relaxed); }
  // The fractional marker (the driver, or the pool's fractional worker) is
  // in a slice: its core is not spare for idle markers (spare_cores_for_idle).
  void set_fractional_marking(bool marking) { fractional_marking_.store(marking, std::memory_order_relaxed); }
  bool fractional_marking() const { return fractional_marking_.load(std::memory_order_relaxed); }
  // Slices idle markers were kept from marking because no core was spare.
  uint64_t idle_slices_declined() const { return idle_declined_.load(std::memory_order_relaxed); }

 private:
  struct Worker {
    Role role;
    std::thread thread;
  };
  void run(Worker& worker);
  void mark(Worker& worker, MarkShared& shared);
  bool claim_spare_core();  // idle role: true if it may run a slice now
  // Sleeps `us` microseconds, or less if the mark ends (or the pool stops).
  void wait_while_marking(uint64_t us);

  Heap& heap_;
  const double fractional_share_;
  std::function<bool()> run_deferred_slice_;
  std::function<unsigned()> spare_cores_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable left_;
  MarkShared* shared_ = nullptr;
  uint64_t mark_epoch_ = 0;
  uint64_t mark_started_ns_ = 0;
  bool stopping_ = false;
  int in_mark_ = 0;
  std::atomic<bool> marking_{false};
  std::atomic<uint64_t> cpu_ns_{0};
  std::atomic<uint64_t> idle_cpu_ns_{0};
  std::atomic<unsigned> idle_marking_{0};  // idle markers inside a slice
  std::atomic<bool> fractional_marking_{false};
  std::atomic<uint64_t> idle_declined_{0};
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace tricolor::gc
