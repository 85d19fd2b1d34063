// mark_workers.h — background markers beside the collector's driver thread.
//
// Owns: the pool of marker threads planned by mark_worker_plan.h, minus the
// driver (which is the first dedicated marker, or the fractional one when no
// core is dedicated). While a concurrent mark runs, its threads drain the
// shared mark queue with markers of their own; otherwise they sleep.
//  - dedicated markers mark all the time;
//  - the fractional marker marks a share of one thread's time (FractionalShare);
//  - idle markers run at the OS's idle priority (SCHED_IDLE), so they take
//    only CPU nobody else wants. They mark in short slices and publish their
//    work after each; when termination waits on one stuck inside a slice on
//    a busy machine, the driver lifts its priority until that slice ends.
// When mark work runs dry, a pool marker runs a slice of deferred work
// (deferred_work.h) if no one else is.
// Invariants: a worker holds grey objects only while busy (marker.h), so
// termination rounds see its work; after end_mark() returns no worker touches
// mark state until the next start_mark().
#pragma once

#include <pthread.h>

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

// Whether this process may run idle markers: put a thread at idle priority
// and lift it back (root, CAP_SYS_NICE or RLIMIT_NICE >= 20). Without the
// lift a starved idle marker could hold up the end of a mark, so the plan
// then has no idle markers. Probed once, on a thread of its own.
bool idle_priority_supported();

class MarkWorkers {
 public:
  enum class Role : uint8_t { kDedicated, kFractional, kIdle };

  // Starts `pool` threads (its `fractional` share, if any, is one thread).
  // `run_deferred_slice`: runs one slice of deferred work if none is running,
  // false when it ran nothing.
  MarkWorkers(Heap& heap, const MarkWorkerPlan& pool, std::function<bool()> run_deferred_slice);
  MarkWorkers(const MarkWorkers&) = delete;
  MarkWorkers& operator=(const MarkWorkers&) = delete;
  ~MarkWorkers();

  unsigned count() const { return static_cast<unsigned>(workers_.size()); }
  unsigned count(Role role) const;
  // Wakes the workers to mark into `shared` until end_mark().
  void start_mark(MarkShared& shared);
  // Returns once every worker has left the mark (its marker published).
  void end_mark();
  // CPU the dedicated and fractional / the idle workers spent marking, since the last call.
  uint64_t take_cpu_ns() { return cpu_ns_.exchange(0, std::memory_order_relaxed); }
  uint64_t take_idle_cpu_ns() { return idle_cpu_ns_.exchange(0, std::memory_order_relaxed); }
  // The driver waits on busy markers: an idle marker inside a slice gets a
  // normal priority until its slice ends. Returns how many were lifted.
  unsigned boost_busy_idle_markers();
  // Times an idle marker's priority was lifted (tests, observability).
  uint64_t idle_boosts() const { return idle_boosts_.load(std::memory_order_relaxed); }
  // Whether worker `index` (dedicated first, then fractional, then idle)
  // runs at the OS's idle priority right now (tests).
  bool at_idle_priority(unsigned index);

 private:
  struct Worker {
    Role role;
    std::thread thread;
    std::mutex priority_mutex;               // idle role: guards the two below and the syscalls
    bool boosted = false;                    // running at normal priority for now
    std::atomic<bool> boost_pending{false};  // boosted, not yet back to idle priority
    std::atomic<bool> in_slice{false};       // idle role: holding grey objects
  };
  void run(Worker& worker);
  void mark(Worker& worker, MarkShared& shared);
  void restore_idle_priority(Worker& worker);

  Heap& heap_;
  const double fractional_share_;
  std::function<bool()> run_deferred_slice_;
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
  std::atomic<uint64_t> idle_boosts_{0};
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace tricolor::gc
