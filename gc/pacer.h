// pacer.h — when to collect: the heap goal, the trigger, the assist rate and
// the GC CPU limiter.
//
// Owns: the pure arithmetic of pacing, free of clocks, threads and atomics so
// that it is tested as a deterministic function and simulated cycle by cycle
// (tests/gc/pacer_test.cpp, tests/gc/pacer_simulation_test.cpp). Times and
// CPU times are passed in. Who calls it: the collector (gc/collector.cpp),
// which feeds a Pacer and a CpuLimiter under its stats lock and publishes what
// mutators need (trigger, MarkPlan, limiting()) through its own atomics.
//
// Rules (Go's, see DESIGN.md §4):
//  - goal = live × (1 + GOGC/100), at least the minimum heap (TRICOLOR_MIN_HEAP,
//    Go's 4 MiB × GOGC/100 floor simplified to a fixed floor).
//  - GOMEMLIMIT is a soft limit: the goal is capped at limit − non-heap memory
//    (metadata). When live itself is near the limit the goal keeps a headroom
//    of live/16 (at least one span) so that a too-small limit makes collections
//    frequent rather than continuous; the CPU limiter below keeps those
//    collections from taking more than about half of the CPU.
//  - GOGC=off without a limit: no goal (never collect on heap growth).
//  - GOGC=off with a limit: collect only near the limit.
//  - Trigger (Go ≥ 1.18, simplified): start the mark early enough that it ends
//    when the heap reaches the goal, judged from how much the mutators
//    allocated per byte of mark work in the last cycles (an EWMA), scaled to
//    the pace the background marker alone sets (assists excluded), times a
//    safety margin. Clamped to [70 %, 95 %] of the runway goal − live
//    (Go's bounds: a floor on floating garbage, a floor on the runway).
//  - Assists: a mutator that allocates during a mark does mark work in
//    proportion, so that the expected work is done by the time the heap
//    reaches the goal; revised during the mark as work and heap progress.
//  - CPU limiter (Go's gcCPULimiter): a leaky bucket filled by GC CPU time and
//    drained by mutator CPU time; while full, the GC's share of the CPU over
//    the bucket's window has passed 50 % and assists stop (until it drains a
//    little), letting the heap overshoot the goal (or the soft limit) instead
//    of death-spiralling.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tricolor::gc {

inline constexpr size_t kNoHeapGoal = SIZE_MAX;

// ---------------------------------------------------------------- heap goal

struct PacerInputs {
  size_t live_bytes;          // marked at the end of the last cycle
  int gc_percent;             // < 0: off
  int64_t memory_limit_bytes; // INT64_MAX: off
  size_t min_heap_bytes;
  size_t overhead_bytes;      // memory the heap limit also pays for (metadata)
};

size_t heap_goal(const PacerInputs& in);

// How many bytes of empty, committed spans to keep after a cycle (the rest
// goes back to the OS): enough to grow to the goal plus 10 % (Go's scavenger
// retains the same margin) without faulting pages back in, given
// `in_use_bytes` of spans and large objects that hold live objects.
size_t retained_free_bytes(size_t goal_bytes, size_t in_use_bytes);

// ---------------------------------------------------------------- tuning

// Before any mark has been observed: trigger = live + 0.7 × (goal − live),
// the earliest start the clamps below allow (nothing is known yet, so assume
// the worst), and the collector's former fixed runway fraction of 0.3.
inline constexpr double kFirstTriggerRunwayFraction = 0.7;
// The trigger never starts the mark before 70 % of the runway (Go's minimum
// trigger, 45/64). Everything allocated during a mark is born black, survives
// the cycle as floating garbage and raises the next live and goal. A mark
// started early runs unassisted, so floating garbage grows with allocation
// rate / mark rate (a floor of 5 % lets the heap grow 1.5× at 1.2 B allocated
// per B marked in the simulation); from 70 % on it is at most 30 % of the
// runway (live ≤ reachable / 0.7 at GOGC=100), whatever the allocation rate,
// and assists pay for it in CPU — bounded in turn by the CPU limiter.
inline constexpr double kMinTriggerRunwayFraction = 0.7;
// ... and never after 95 %: some runway is always left for the mark.
inline constexpr double kMaxTriggerRunwayFraction = 0.95;
// Expected growth during a mark is multiplied by this before it is taken off
// the goal: a 10 % error in the estimate still ends the mark at the goal.
inline constexpr double kTriggerSafetyMargin = 1.1;
// EWMA weight of the newest cycle's allocation-per-mark-work sample: the last
// cycle counts as much as all earlier ones together (reacts within two or
// three cycles, halves the noise of a single jittery cycle).
inline constexpr double kGrowthEwmaWeight = 0.5;
// During a mark, the heap may pass the goal by 10 % when the mark work turns
// out larger than expected (Go's maxOvershoot); never past a memory limit the
// goal was under.
inline constexpr double kHardGoalOvershoot = 1.1;
// The planned assist rate counts at least this much runway, so that a trigger
// at the goal (GOGC=0, a tiny heap) gives a finite rate (Go keeps the goal at
// least 64 KiB above the heap at mark start for the same reason).
inline constexpr size_t kMinAssistRunwayBytes = size_t{64} << 10;
// During a mark, at least this much work is assumed left: marking is racy and
// the work done can pass any estimate by a little.
inline constexpr size_t kMinAssistWorkBytes = size_t{4} << 10;

// ---------------------------------------------------------------- the pacer

// The constants above, in one value, so that tests and simulations can vary
// one of them (the defaults are what the collector runs with).
struct PacerTuning {
  double first_trigger_runway_fraction = kFirstTriggerRunwayFraction;
  double min_trigger_runway_fraction = kMinTriggerRunwayFraction;
  double max_trigger_runway_fraction = kMaxTriggerRunwayFraction;
  double trigger_safety_margin = kTriggerSafetyMargin;
  double growth_ewma_weight = kGrowthEwmaWeight;
};

struct PacerSettings {
  int gc_percent = 100;                       // < 0: off
  int64_t memory_limit_bytes = INT64_MAX;     // INT64_MAX: off
  size_t min_heap_bytes = size_t{4} << 20;
  size_t overhead_bytes = 0;                  // non-heap memory the limit pays for
};

// What the collector measured over one concurrent mark (start to end of the mark).
struct MarkResult {
  size_t live_bytes;                // marked + allocated black: the next goal's base
  size_t scanned_bytes;             // mark work done (traced bytes); 0: same as live
  size_t heap_at_mark_start_bytes;  // heap live bytes when the mark started
  size_t heap_at_mark_end_bytes;    // heap live bytes when the mark ended
  uint64_t mark_wall_ns;            // start → end of the mark
  uint64_t assist_cpu_ns;           // CPU the mutators spent in assists
  uint64_t background_cpu_ns;       // CPU of the background marker(s)
  uint64_t mutator_cpu_ns;          // CPU the mutators spent on their own work
};

// The pacing of one mark, fixed when it starts: an immutable value the collector
// can publish to mutators (written before the mark phase is published).
struct MarkPlan {
  size_t goal_bytes = kNoHeapGoal;
  size_t hard_goal_bytes = kNoHeapGoal;
  size_t expected_scan_bytes = 0;
  size_t heap_at_mark_start_bytes = 0;
  bool memory_limited = false;  // a GOMEMLIMIT is set: the heap must hold to it

  // Bytes of mark work to do per byte allocated, given the heap now and the
  // mark work done so far (assists plus background), so that the work left is
  // done when the heap reaches the goal. If the work done passes the
  // expectation, the live heap grew: assume everything present at mark start
  // is live and stretch the goal towards the hard goal. 0: no assists.
  double assist_work_per_byte_at(size_t heap_live_bytes, size_t scan_done_bytes) const;
};

class Pacer {
 public:
  explicit Pacer(PacerSettings settings = {}, PacerTuning tuning = {});

  // GOGC, GOMEMLIMIT, minimum heap or metadata changed: new goal and trigger
  // at once, from the same live heap and history.
  void set_settings(const PacerSettings& settings);
  // A concurrent mark ended: learn how fast the heap grew per unit of mark
  // work, then set the next goal, trigger and assist rate.
  void end_mark(const MarkResult& mark);
  // A cycle ended without concurrent-mark measurements (stop-the-world mode,
  // tests): new live heap, history kept.
  void set_live_bytes(size_t live_bytes);
  // Mark start: the pacing of the mark that starts with this heap.
  MarkPlan plan_mark(size_t heap_at_mark_start_bytes) const;

  size_t goal_bytes() const { return goal_bytes_; }
  size_t hard_goal_bytes() const;
  // The concurrent collector starts a mark when heap live bytes reach this
  // (kNoHeapGoal: never). A stop-the-world collector uses goal_bytes().
  size_t trigger_bytes() const { return trigger_bytes_; }
  // Mark work expected per byte of runway goal − trigger (0: no goal).
  double assist_work_per_byte() const;
  size_t live_bytes() const { return live_bytes_; }
  size_t expected_scan_bytes() const { return expected_scan_bytes_; }
  // Smoothed bytes allocated per byte of mark work at the background pace
  // (0 with no history), and what it predicts for the next mark.
  double growth_per_scan_byte() const { return growth_per_scan_byte_; }
  size_t expected_mark_growth_bytes() const;
  bool has_history() const { return has_history_; }
  const PacerSettings& settings() const { return settings_; }

 private:
  void recompute();

  PacerSettings settings_;
  PacerTuning tuning_;
  size_t live_bytes_ = 0;
  size_t expected_scan_bytes_ = 0;
  double growth_per_scan_byte_ = 0;
  bool has_history_ = false;
  size_t goal_bytes_ = 0;
  size_t trigger_bytes_ = 0;
};

// One cycle's growth sample: bytes allocated during the mark per byte of mark
// work, rescaled from the CPU split observed to the background marker's alone
// (assists slowed the mutators down; without them they would have allocated
// (mutator + assist) / mutator times more per unit of GC CPU, and the GC would
// have had background / (assist + background) of the CPU). Falls back to the
// raw ratio when CPU times are missing.
double growth_per_scan_byte_sample(const MarkResult& mark);

// ---------------------------------------------------------------- CPU limiter

// Go's bucket holds one second of CPU per core: at 100 % GC on every core it
// fills in 1 s, at 75 % in 2 s; the GC's share is judged over that window.
inline constexpr uint64_t kCpuLimiterWindowNs = 1'000'000'000;
// Once full, the limiter stays on until the bucket has drained by
// 1/kCpuLimiterReleaseDivisor of its capacity (Go turns it off at the first
// drain). Without that band, every update with assists overfills the full
// bucket and the excess is dropped, so the GC keeps more than half of the CPU
// (in the simulation's GOMEMLIMIT scenario the mutators got 41 % instead of
// 48 %); with it, the excess is paid back and the limiter flips every few
// tens of ms instead of at every update.
inline constexpr uint64_t kCpuLimiterReleaseDivisor = 64;

class CpuLimiter {
 public:
  explicit CpuLimiter(unsigned cores, uint64_t window_ns = kCpuLimiterWindowNs);

  // CPU time spent since the last update, by the GC (assists and background
  // markers) and by the mutators on their own work; idle CPU is left out
  // (Go's rule: idle time is not the mutators' to claim). `now_ns` bounds the
  // two by what `cores` could give since the last update (measurements that
  // overlap are scaled down) and is remembered for needs_update().
  void update(uint64_t now_ns, uint64_t gc_cpu_ns, uint64_t mutator_cpu_ns);
  // When the mutators' CPU is not measured: all of cores × elapsed that the GC
  // did not use counts as mutator time (more lenient when cores sit idle).
  void update_assuming_busy_cores(uint64_t now_ns, uint64_t gc_cpu_ns);

  // The bucket filled up: over the window the GC took more than half of the
  // CPU. Assists stop until it has drained by capacity / 64.
  bool limiting() const { return limiting_; }
  // True when the last update is older than `period_ns` (Go updates at least
  // every 1 ms while the GC runs, so a full bucket does not stay full by lack
  // of news).
  bool needs_update(uint64_t now_ns, uint64_t period_ns = 1'000'000) const;

  void set_cores(unsigned cores);
  uint64_t fill_ns() const { return fill_ns_; }
  uint64_t capacity_ns() const { return capacity_ns_; }
  // GC CPU time past a full bucket (time the limit could not absorb).
  uint64_t overflow_ns() const { return overflow_ns_; }

 private:
  void accumulate(uint64_t gc_cpu_ns, uint64_t mutator_cpu_ns);

  unsigned cores_;
  uint64_t window_ns_;
  uint64_t capacity_ns_;
  uint64_t fill_ns_ = 0;
  uint64_t overflow_ns_ = 0;
  uint64_t last_update_ns_ = 0;
  bool updated_ = false;
  bool limiting_ = false;
};

}  // namespace tricolor::gc
