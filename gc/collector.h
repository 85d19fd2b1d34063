// collector.h — the cycle driver: concurrent (default) and stop-the-world.
//
// Concurrent cycle, after Go's (DESIGN.md §4) but with no global pause,
// driven by one background thread that is also the background marker:
//   0. finish sweeping the previous cycle.
//   1. start: the write barrier goes on (one flag); a handshake has every
//      mutator allocate black. Nothing is traced before all have answered.
//   2. roots: global roots (Persistent, deferred work) by the driver; each
//      mutator scans its own roots at its next safepoint (a per-thread
//      handshake: only that thread pauses); a blocked mutator's roots are
//      scanned on its behalf.
//   3. concurrent mark: the background marker drains the shared queue;
//      mutators that allocate pay assists in slices of at most
//      kAssistSliceObjects entries; the barrier shades both targets of every
//      store at once and buffers the greys it made.
//   4. termination by rounds (try_end_mark): count greyings, hand over every
//      buffer, drain, resolve ephemerons whose key got marked; a round in
//      which nothing turned grey proves the mark complete. Then the sweep generation advances and a last handshake has
//      every mutator allocate white and hand back its cached spans.
//   5. weak: slots whose target was not marked are nulled, and so are the
//      keys of ephemerons still pending (weak reads in the meantime check
//      liveness themselves); then lazy sweeping is allowed.
//   6. concurrent sweep: the driver sweeps; allocation sweeps the spans it
//      takes. Memory beyond the next goal goes back to the OS.
// Stop-the-world cycle: all of the above in one pause (the oracle).
// Invariant (the hybrid barrier's): from the start handshake to the end of
// the mark every managed pointer store shades both its old and its new
// target, and objects are born black; so a mutator's roots, scanned once,
// never need a rescan, and black objects never point to white ones.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <algorithm>
#include <thread>

#include "config.h"
#include "errors.h"
#include "deferred_work.h"
#include "provisioner.h"
#include "heap.h"
#include "mark_workers.h"
#include "pacer.h"
#include "stats.h"
#include "timeline.h"
#include "world.h"

namespace tricolor {
class Mutator;
}

namespace tricolor::gc {

struct MarkShared;
class Marker;

enum class Phase : uint8_t { kOff, kMark, kSweep };

class Collector {
 public:
  // Largest assist slice: bounds the time between two of an assisting
  // mutator's safepoint polls. An assist runs slices until its debt is paid
  // or no mark work is left.
  static constexpr size_t kAssistSliceObjects = 256;
  // Assists start only once a mutator owes this many objects of mark work,
  // so that a few small refills do not each pay for setting up a marker.
  static constexpr size_t kMinAssistObjects = 32;
  // Deferred debt (charge_deferred_assist) is paid at every
  // kDeferredDebtPeriod-th call of pay_deferred_debt, that many slices at a
  // time (at most kAssistBudgetNs): the same pace as one slice per call, with
  // an eighth of the calls stalled (one slice per map write made 25-75 µs
  // stalls the most common slow assignment in stw_assign; bench/RESULTS.md,
  // stop 13). A refill's assist is bounded by the same budget.
  static constexpr size_t kDeferredDebtPeriod = 8;
  // Without a memory limit, one allocation slow path assists for at most
  // this long and carries the rest of its debt to its next one, so that no
  // single allocation stalls for a whole mark's worth of work (Go's assists
  // are unbounded: an assignment there can stall for most of a mark). Past
  // the mark's hard goal a slow path assists four times as long: the
  // allocating thread then spends most of its time marking. With a memory
  // limit the heap must hold to it, and an allocation pays its whole debt.
  static constexpr uint64_t kAssistBudgetNs = 200'000;
  static constexpr uint64_t kAssistBudgetPastHardGoalNs = 800'000;

  explicit Collector(GcConfig config);
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;
  ~Collector();

  // Runs a full cycle (mark and sweep) that starts after this call, and
  // returns when it is complete. `self` is the calling mutator, or null.
  void collect(Mutator* self, CycleReason reason);
  // Allocation slow paths: start a cycle if the heap reached its trigger.
  void collect_if_due(Mutator& self) {
    if (heap_.heap_live_bytes() >= trigger_bytes_.load(std::memory_order_relaxed)) [[unlikely]]
      start_cycle_for(self);
    if (stressed_) [[unlikely]] stress_on_allocation(self);
  }
  // Allocation slow paths: gets memory through `allocate`, applying the hard
  // limit and, when memory is refused, one emergency collection and retry.
  template <class Allocate>
  auto allocate_memory(Mutator& self, size_t bytes, Allocate&& allocate) {
    if (config_.hard_limit_bytes != 0) [[unlikely]] enforce_hard_limit(self, bytes);
    try {
      return allocate();
    } catch (const HeapExhausted&) {
      collect(&self, CycleReason::kEmergency);
      return allocate();  // a second refusal reaches the embedder
    }
  }
  // Stress mode: a random pause point (a yield or a short sleep), or nothing.
  void stress_point() {
    if (config_.stress_seed != 0) [[unlikely]] stress_delay();
  }
  // Allocation slow paths during a mark: `bytes` just taken become assist
  // debt (mark work owed, in objects), paid before the next slow path takes
  // more — at a point where the mutator holds no half-made allocation, so it
  // may answer handshakes between its assist slices.
  void charge_assist(Mutator& self, size_t bytes) {
    // Acquire: the mark's plan is published before the phase (begin_mark).
    if (phase_.load(std::memory_order_acquire) == Phase::kMark) [[unlikely]] add_assist_debt(self, bytes);
  }
  void pay_assist_debt(Mutator& self);
  // A large allocation that must not stall its caller (a managed map's new
  // bucket array): its assist debt goes to Mutator::deferred_debt_objects()
  // and is paid by pay_deferred_debt (the map calls it once per write:
  // kDeferredDebtPeriod slices at every kDeferredDebtPeriod-th call), or by
  // background credit; what is unpaid when the mark ends is forgiven.
  void charge_deferred_assist(Mutator& self, size_t bytes) {
    if (phase_.load(std::memory_order_acquire) == Phase::kMark) [[unlikely]] add_assist_debt(self, bytes, true);
  }
  void pay_deferred_debt(Mutator& self);

  // Barrier slow paths (gc/barrier.cpp, gc/mutator.cpp).
  bool shade_for_mutator(const void* object);   // white → grey: true
  void publish_buffered(Mutator& mutator);      // its buffered greys to the markers
  void shade_from_foreign_thread(const void* old_target, const void* new_target);
  void shade_batch_from_foreign_thread(const void* const* targets, size_t count);
  const void* weak_read_slow(const void* target);

  // Queues work for the background thread (run in slices between cycles and
  // when mark work runs dry). The item is a root until it finishes.
  void defer(std::shared_ptr<DeferredWork> item);
  // Queues a job that makes memory resident (a PrefaultWork) on the
  // provisioning thread, which runs it at once rather than between marks.
  void prefault(std::shared_ptr<DeferredWork> job);
  Provisioner& provisioner() { return provisioner_; }
  DeferredWorkQueue& deferred_work() { return deferred_; }

  // Return the previous value; the new goal applies at once.
  int set_gc_percent(int percent);
  int64_t set_memory_limit(int64_t bytes);

  GcStats stats();
  Heap& heap() { return heap_; }
  Timeline& timeline() { return timeline_; }
  World& world() { return world_; }
  CollectorMode mode() const { return config_.mode; }
  Phase phase() const { return phase_.load(std::memory_order_acquire); }
  uint64_t now_ns() const;

  // The collector of this process (one Runtime at a time), for barrier slow
  // paths on threads without a mutator.
  static Collector* current();

  // ---- The steps of a concurrent cycle, in order. The driver thread runs
  // them; with GcConfig::background_driver false, a test runs them itself to
  // put the collector in a chosen state (tests/gc/barrier_test.cpp). `self`
  // is the calling mutator (it answers its own handshakes), or null. ----
  void begin_mark(Mutator* self, CycleReason reason);  // start handshake
  void mark_global_roots();
  void scan_mutator_roots(Mutator* self);             // handshake
  bool drain_background(size_t budget_objects);       // true: no work visible
  void flush_barrier_buffers(Mutator* self);          // handshake
  bool mark_looks_complete();
  // Pending ephemerons whose key is now marked: their values are visited by
  // `marker` (turned grey) and they stop pending. Returns how many.
  size_t resolve_ephemerons(Marker& marker);
  size_t pending_ephemerons();
  bool try_end_mark(Mutator* self);                   // a termination round; ends the mark if clean
  void sweep_and_finish();
  // The mark bit of `object` (tests and the verifier).
  bool is_marked(const void* object) const;
  // The running mark's state, for the invariant check of a stepped cycle
  // (gc/verifier.h): only while no marker runs.
  MarkShared& mark_shared() { return *mark_shared_; }
  bool global_roots_scanned() const { return global_roots_scanned_; }
  // Chunks of big arrays traced in the current or last mark.
  size_t oblets_traced() const;
  // Background mark work not yet claimed by assists (current mark).
  size_t background_credit() const;
  const MarkWorkerPlan& mark_worker_plan() const { return plan_; }
  uint64_t idle_slices_declined() const { return workers_.idle_slices_declined(); }

 private:
  void start_cycle_for(Mutator& self);
  void enforce_hard_limit(Mutator& self, size_t bytes);
  void stress_on_allocation(Mutator& self);
  void stress_delay();
  void request_cycle(CycleReason reason);
  void driver_main();
  void run_concurrent_cycle(CycleReason reason);
  void run_stw_cycle(Mutator* self, CycleReason reason);
  void stw_mark(Marker& marker);
  void end_mark(Mutator* self);
  void reopen_mark();
  const void* await_close_verdict(const void* target, size_t greyed_count);
  void clear_dead_weak_references();
  void finish_cycle(CycleReport& report, size_t released_before);
  void add_assist_debt(Mutator& self, size_t bytes, bool deferred = false);
  // Assists in slices until `debt` is paid, `max_slices` ran or `budget_ns` passed.
  void pay_debt(Mutator& self, size_t& debt, size_t max_slices, uint64_t budget_ns = UINT64_MAX);
  bool take_background_credit(size_t& debt);
  void recompute_goal_locked();
  void update_cpu_limiter();
  struct GcCpu {
    uint64_t marking_ns;  // assists, dedicated and fractional markers
    uint64_t idle_ns;     // idle markers
  };
  GcCpu gc_cpu_totals();
  void record_global_pause(uint64_t ttsp_ns, uint64_t pause_ns);
  void record_mutator_pause(uint64_t ttsp_ns, uint64_t pause_ns);
  void record_cycle(const CycleReport& report);

  GcConfig config_;
  Heap heap_;
  World world_;
  std::unique_ptr<MarkShared> mark_shared_;
  std::atomic<Phase> phase_{Phase::kOff};
  std::mutex stats_mutex_;  // guards stats_, settings, pacer_
  GcStats stats_;
  Pacer pacer_;        // under stats_mutex_
  MarkPlan mark_plan_;  // the running mark's pacing; written before the phase flips to kMark
  double bytes_per_object_ = 64.0;  // last mark's average, to turn work bytes into objects
  CpuLimiter limiter_{std::max(1u, std::thread::hardware_concurrency()), config_.cpu_limiter_window_ns};  // driver only
  std::atomic<bool> limited_{false};
  std::atomic<uint64_t> limiter_full_updates_{0};
  std::atomic<uint64_t> assists_skipped_{0};
  uint64_t limiter_gc_cpu_ns_ = 0;
  uint64_t limiter_idle_cpu_ns_ = 0;
  uint64_t limiter_process_cpu_ns_ = 0;
  uint64_t mark_started_process_cpu_ns_ = 0;
  std::atomic<size_t> trigger_bytes_{SIZE_MAX};
  std::atomic<uint64_t> assist_cpu_ns_{0};
  std::mutex foreign_shade_mutex_;  // shading by threads without a mutator
  const bool stressed_ = config_.stress_alloc_bytes != 0 || config_.stress_seed != 0;
  std::atomic<size_t> next_stress_cycle_bytes_{config_.stress_alloc_bytes};
  const std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  // TRICOLOR_TRACE: spans share the collector's clock (origin created_).
  Timeline timeline_{config_.trace_path, TimelineConfig{.origin = created_}};

  // Closing the mark (try_end_mark vs weak_read_slow).
  std::atomic<bool> closing_{false};
  uint32_t mark_epoch_ = 0;  // the sweep generation of the spans being marked
  bool global_roots_scanned_ = false;  // in the running mark (driver only)
  std::mutex close_mutex_;
  std::condition_variable close_decision_;
  bool close_decided_ = false;
  bool close_succeeded_ = false;
  size_t closed_at_greyed_ = 0;

  // The cycle in progress (concurrent mode; touched by the driver only).
  CycleReport cycle_;
  size_t released_before_ = 0;
  uint64_t mark_started_ns_ = 0;
  std::unique_ptr<Marker> background_marker_;
  const unsigned cores_ = std::max(1u, std::thread::hardware_concurrency());
  const MarkWorkerPlan plan_;  // every background marker, the driver included
  const double driver_share_;  // > 0: the driver is the fractional marker
  static constexpr size_t kFractionalSliceObjects = 4096;
  MarkWorkers workers_;  // the plan's markers other than the driver

  // Stop-the-world mode: one cycle at a time, run by the requesting thread.
  std::mutex stw_cycle_mutex_;
  std::atomic<uint64_t> stw_cycles_completed_{0};

  // Deferred work, run by the driver thread (in both modes); a stop-the-world
  // cycle holds deferred_run_mutex_ so that no slice runs inside its pause.
  static constexpr uint64_t kDeferredSliceNs = 100'000;
  DeferredWorkQueue deferred_;
  std::mutex deferred_run_mutex_;
  // After heap_: its thread stops before the heap goes.
  Provisioner provisioner_;
  void shade_if_marking(const DeferredWork& item);
  bool run_deferred_slice();
  bool try_run_deferred_slice();  // for the pool's markers: never waits for the lock

  // Concurrent mode: the driver thread and its requests.
  std::mutex driver_mutex_;
  std::condition_variable driver_wakeup_;
  std::condition_variable cycle_done_;
  bool cycle_requested_ = false;
  bool shutting_down_ = false;
  CycleReason requested_reason_ = CycleReason::kHeapGoal;
  uint64_t cycles_started_ = 0;
  uint64_t cycles_completed_ = 0;
  std::thread driver_;
};

}  // namespace tricolor::gc
