// pacer_simulation_test.cpp — the pacer and the CPU limiter driving a model
// program through many cycles, in the style of Go's pacer tests: named
// scenarios built from composable per-cycle streams, asserting goal, trigger
// and CPU ratios. Deterministic: simulated time only, no clocks, no threads.
//
// The model. A program has `mutator_cores` busy cores; each allocates
// `alloc_bytes_per_core_ns(cycle)` while it runs its own code. Its reachable
// heap at the start of cycle n's mark is `live_bytes(n)` (never more than the
// heap it has). One background marker core scans `mark_bytes_per_core_ns`.
// Between marks the heap grows until it reaches the trigger. During a mark:
//  - the background marker does its work and banks it as credit;
//  - allocating costs MarkPlan::assist_work_per_byte_at() bytes of mark work
//    per byte, paid first from the credit (Go's bgScanCredit), the rest by the
//    allocating core itself at marking speed (an assist) — unless the CPU
//    limiter is limiting;
//  - the mark ends when the reachable heap is scanned. Everything allocated
//    meanwhile is black, so live = reachable + allocated during the mark.
// The limiter is fed every step with the GC's and the mutators' CPU time.
//
// Replay: the jittery scenario prints its seed; TRICOLOR_TEST_SEED=<seed>
// takes it back.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "../../gc/pacer.h"

using namespace tricolor::gc;

namespace {

constexpr double MiB = 1 << 20;
constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kStepNs = 20'000;  // 20 µs of simulated time per mark step

// ---------------------------------------------------------------- streams

// A per-cycle quantity; streams compose by + and by scaling.
struct Stream {
  std::function<double(int cycle)> at;
  double operator()(int cycle) const { return at(cycle); }
};
Stream operator+(Stream a, Stream b) {
  return {[a = std::move(a), b = std::move(b)](int n) { return a(n) + b(n); }};
}
Stream operator*(double k, Stream a) {
  return {[k, a = std::move(a)](int n) { return k * a(n); }};
}
Stream constant(double value) {
  return {[value](int) { return value; }};
}
// 0 before `cycle`, `by` from it on.
Stream step(int cycle, double by) {
  return {[cycle, by](int n) { return n >= cycle ? by : 0.0; }};
}
// A unit sine, one period every `period` cycles.
Stream oscillate(int period) {
  return {[period](int n) { return std::sin(2 * std::numbers::pi * n / period); }};
}
// Uniform in [−1, 1], a fixed sequence for a given seed.
Stream jitter(uint64_t seed) {
  return {[seed](int n) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(n + 1);  // splitmix64
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    const double unit = static_cast<double>(z >> 11) / static_cast<double>(uint64_t{1} << 53);
    return 2 * unit - 1;
  }};
}

// ---------------------------------------------------------------- the model

struct Program {
  std::string name;
  Stream alloc_bytes_per_core_ns = constant(0.05);
  Stream live_bytes = constant(64 * MiB);
  double mark_bytes_per_core_ns = 1.0;
  double mutator_cores = 4;
  double background_cores = 1;
  unsigned cores = 8;
  PacerSettings settings{};
  PacerTuning tuning{};
  int cycles = 80;
  uint64_t max_time_ns = 100'000 * kMs;
  bool limiter_enabled = true;
};

struct Cycle {
  size_t goal, hard_goal, trigger, heap_start, heap_end, live;
  double gc_share;      // GC CPU / (GC + mutator CPU) during the mark
  double assist_share;  // assist CPU / GC CPU during the mark
  bool limited;         // the limiter was limiting at some step of the mark
  size_t live_before;   // the live heap the goal and trigger were computed from
  double trigger_runway_fraction() const {
    return goal > live_before ? double(trigger - live_before) / double(goal - live_before) : 1.0;
  }
};

struct Run {
  std::vector<Cycle> cycles;
  double gc_cpu_ns = 0, mutator_cpu_ns = 0;
  uint64_t time_ns = 0;
  uint64_t limited_ns = 0;
  size_t peak_heap = 0;
  bool limiting_at_end = false;
  double mutator_share() const { return mutator_cpu_ns / (gc_cpu_ns + mutator_cpu_ns); }
};

class Simulation {
 public:
  explicit Simulation(const Program& p) : p_(p), pacer_(p.settings, p.tuning), limiter_(p.cores) {}

  Run run() {
    for (int n = 0; n < p_.cycles && run_.time_ns < p_.max_time_ns; ++n) {
      if (!grow_to_trigger(n)) break;
      mark(n);
    }
    run_.limiting_at_end = limiter_.limiting();
    return run_;
  }

 private:
  // Off phase: only the mutators run. False: the trigger is never reached.
  bool grow_to_trigger(int n) {
    const double rate = p_.alloc_bytes_per_core_ns(n) * p_.mutator_cores;  // bytes per ns
    const size_t trigger = pacer_.trigger_bytes();
    uint64_t dt = p_.max_time_ns - run_.time_ns;
    if (trigger != kNoHeapGoal && heap_ < trigger)
      dt = std::min<uint64_t>(dt, static_cast<uint64_t>(std::ceil(double(trigger - heap_) / rate)));
    else if (trigger != kNoHeapGoal)
      dt = 0;
    heap_ += static_cast<size_t>(rate * double(dt));
    advance(double(dt), 0, p_.mutator_cores * double(dt));
    run_.peak_heap = std::max(run_.peak_heap, heap_);
    return trigger != kNoHeapGoal && heap_ >= trigger;
  }

  // What a mark has done so far.
  struct Marking {
    double done = 0, credit = 0, heap = 0;
    double assist_ns = 0, background_ns = 0, mutator_ns = 0;
    bool limited = false;
  };

  void mark(int n) {
    Cycle c{};
    c.live_before = pacer_.live_bytes();
    c.goal = pacer_.goal_bytes();
    c.hard_goal = pacer_.hard_goal_bytes();
    c.trigger = pacer_.trigger_bytes();
    c.heap_start = heap_;
    const MarkPlan plan = pacer_.plan_mark(heap_);
    const double work = std::min(p_.live_bytes(n), double(heap_));
    const uint64_t started = run_.time_ns;
    Marking m;
    m.heap = double(heap_);
    while (m.done < work) step(m, plan, p_.alloc_bytes_per_core_ns(n));
    heap_ = size_t(m.heap);
    c.heap_end = heap_;
    c.limited = m.limited;
    run_.peak_heap = std::max(run_.peak_heap, heap_);
    c.gc_share = (m.assist_ns + m.background_ns) / (m.assist_ns + m.background_ns + m.mutator_ns);
    c.assist_share = m.assist_ns / (m.assist_ns + m.background_ns);
    // Black allocation: what was allocated during the mark survives it.
    c.live = size_t(work) + (c.heap_end - c.heap_start);
    pacer_.end_mark(MarkResult{c.live, size_t(work), c.heap_start, c.heap_end, run_.time_ns - started,
                               uint64_t(m.assist_ns), uint64_t(m.background_ns), uint64_t(m.mutator_ns)});
    heap_ = c.live;  // the sweep frees the rest at once
    run_.cycles.push_back(c);
    if (std::getenv("TRICOLOR_PACER_TRACE") != nullptr) trace(n, c, run_.time_ns - started);
  }

  // One step of a mark: the background marker banks its work as credit; each
  // byte the mutators allocate owes `ratio` bytes of work, paid from the
  // credit first, then by assisting, which takes the core away from allocating.
  void step(Marking& m, const MarkPlan& plan, double alloc) {
    const bool limiting = p_.limiter_enabled && limiter_.limiting();
    m.limited |= limiting;
    const double ratio = limiting ? 0 : plan.assist_work_per_byte_at(size_t(m.heap), size_t(m.done));
    // Shorter steps near the goal, where the ratio climbs fast: a whole step
    // paid from banked credit could otherwise cross it.
    const double goal = m.heap < double(plan.goal_bytes) ? double(plan.goal_bytes) : double(plan.hard_goal_bytes);
    double dt = double(kStepNs);
    if (!limiting && m.heap < goal && alloc > 0)
      dt = std::clamp((goal - m.heap) / (2 * alloc * p_.mutator_cores), 1.0, dt);
    const double speed = p_.mark_bytes_per_core_ns;
    const double mutator_core_ns = p_.mutator_cores * dt;
    const double background = speed * p_.background_cores * dt;
    m.done += background;
    m.credit += background;
    double running = 1;  // fraction of the mutators' time spent on their own work
    const double owed = alloc * mutator_core_ns * ratio;
    if (owed <= m.credit) {
      m.credit -= owed;
    } else {
      running = std::min(1.0, (speed * mutator_core_ns + m.credit) / ((alloc * ratio + speed) * mutator_core_ns));
      m.done += alloc * running * mutator_core_ns * ratio - m.credit;
      m.credit = 0;
    }
    m.heap += alloc * running * mutator_core_ns;
    const double assist_ns = (1 - running) * mutator_core_ns;
    m.assist_ns += assist_ns;
    m.background_ns += p_.background_cores * dt;
    m.mutator_ns += running * mutator_core_ns;
    if (limiting) run_.limited_ns += uint64_t(dt);
    advance(dt, p_.background_cores * dt + assist_ns, running * mutator_core_ns);
  }

  // One line per cycle, for tuning by eye (TRICOLOR_PACER_TRACE=1).
  void trace(int n, const Cycle& c, uint64_t mark_ns) const {
    std::printf("  cycle %3d t %7.3fs  live %6.1f  trigger %6.1f  goal %6.1f  heap %6.1f -> %6.1f MiB  mark %6.1f ms"
                "  gc %3.0f%%  bucket %.2fs%s\n",
                n, double(run_.time_ns) / 1e9, double(c.live_before) / MiB, double(c.trigger) / MiB,
                double(c.goal) / MiB, double(c.heap_start) / MiB, double(c.heap_end) / MiB, double(mark_ns) / 1e6,
                100 * c.gc_share, double(limiter_.fill_ns()) / 1e9, c.limited ? "  limited" : "");
  }

  void advance(double dt, double gc_ns, double mutator_ns) {
    time_ += dt;
    run_.time_ns = uint64_t(time_);
    run_.gc_cpu_ns += gc_ns;
    run_.mutator_cpu_ns += mutator_ns;
    limiter_.update(run_.time_ns, uint64_t(gc_ns), uint64_t(mutator_ns));
  }

  const Program& p_;
  Pacer pacer_;
  CpuLimiter limiter_;
  size_t heap_ = 0;
  double time_ = 0;
  Run run_;
};

// ---------------------------------------------------------------- reporting

struct Summary {
  double min_end_over_goal = 1e9, max_end_over_goal = 0, mean_end_over_goal = 0;
  double max_end_over_hard_goal = 0;
  double mean_trigger_fraction = 0, mean_gc_share = 0, mean_assist_share = 0;
  int cycles = 0, limited_cycles = 0;
};

// Over the cycles from `from` on (the first ones warm up from an empty heap).
Summary summarize(const Run& run, size_t from) {
  Summary s;
  for (size_t i = from; i < run.cycles.size(); ++i) {
    const Cycle& c = run.cycles[i];
    const double ratio = double(c.heap_end) / double(c.goal);
    s.min_end_over_goal = std::min(s.min_end_over_goal, ratio);
    s.max_end_over_goal = std::max(s.max_end_over_goal, ratio);
    s.mean_end_over_goal += ratio;
    s.max_end_over_hard_goal = std::max(s.max_end_over_hard_goal, double(c.heap_end) / double(c.hard_goal));
    s.mean_trigger_fraction += c.trigger_runway_fraction();
    s.mean_gc_share += c.gc_share;
    s.mean_assist_share += c.assist_share;
    s.limited_cycles += c.limited;
    ++s.cycles;
  }
  if (s.cycles > 0) {
    s.mean_end_over_goal /= s.cycles;
    s.mean_trigger_fraction /= s.cycles;
    s.mean_gc_share /= s.cycles;
    s.mean_assist_share /= s.cycles;
  }
  return s;
}

Run simulate(const Program& p, size_t warmup, Summary* summary = nullptr) {
  Run run = Simulation(p).run();
  const Summary s = summarize(run, warmup);
  if (summary != nullptr) *summary = s;
  if (s.cycles == 0) {
    std::printf("%-34s cycles %3zu  t %6.2fs  mutator %4.1f%%  peak %.0f MiB\n", p.name.c_str(), run.cycles.size(),
                double(run.time_ns) / 1e9, 100 * run.mutator_share(), double(run.peak_heap) / MiB);
    return run;
  }
  std::printf(
      "%-34s cycles %3zu  t %6.2fs  heap_end/goal min %.3f mean %.3f max %.3f  /hard max %.3f  "
      "trigger@%.2f runway  gc %4.1f%% (assist %4.1f%%)  mutator %4.1f%%  limited %d cycles %.2fs  "
      "peak %.0f MiB  last goal %.0f MiB\n",
      p.name.c_str(), run.cycles.size(), double(run.time_ns) / 1e9, s.min_end_over_goal, s.mean_end_over_goal,
      s.max_end_over_goal, s.max_end_over_hard_goal, s.mean_trigger_fraction, 100 * s.mean_gc_share,
      100 * s.mean_assist_share, 100 * run.mutator_share(), s.limited_cycles, double(run.limited_ns) / 1e9,
      double(run.peak_heap) / MiB, double(run.cycles.back().goal) / MiB);
  return run;
}

uint64_t seed_from_env() {
  if (const char* text = std::getenv("TRICOLOR_TEST_SEED")) return std::strtoull(text, nullptr, 10);
  return 0x7269636f6c6f72;  // fixed, so that the suite is deterministic
}

constexpr size_t kWarmup = 10;  // cycles to grow from an empty heap

}  // namespace

// ---------------------------------------------------------------- scenarios

TEST_CASE("steady: the mark ends just below the goal, without assists") {
  Program p;
  p.name = "steady";
  Summary s;
  const Run run = simulate(p, kWarmup, &s);
  REQUIRE(run.cycles.size() == size_t(p.cycles));
  CHECK(s.min_end_over_goal >= 0.97);
  CHECK(s.max_end_over_goal <= 1.0);
  CHECK(s.mean_assist_share < 0.01);  // the background marker alone keeps up
  CHECK(s.limited_cycles == 0);
  // Converged: the last goal is GOGC=100 of the live heap (reachable + black).
  const Cycle& last = run.cycles.back();
  CHECK(double(last.goal) == doctest::Approx(2.0 * double(last.live_before)).epsilon(0.001));
}

TEST_CASE("step: the live heap quadruples; the goal follows and the heap stays under the hard goal") {
  Program p;
  p.name = "step 32 -> 128 MiB at cycle 30";
  p.live_bytes = constant(32 * MiB) + step(30, 96 * MiB);
  Summary s;
  const Run run = simulate(p, kWarmup, &s);
  CHECK(s.max_end_over_hard_goal <= 1.001);
  // Settled again ten cycles after the step.
  const Summary after = summarize(run, 40);
  CHECK(after.min_end_over_goal >= 0.97);
  CHECK(after.max_end_over_goal <= 1.0);
  CHECK(double(run.cycles.back().live_before) >= 128 * MiB);
}

TEST_CASE("oscillating: a live heap swinging by ±50 % stays paced") {
  Program p;
  p.name = "oscillating 64 ± 32 MiB / 16 cycles";
  p.live_bytes = constant(64 * MiB) + 32 * MiB * oscillate(16);
  Summary s;
  simulate(p, kWarmup, &s);
  CHECK(s.max_end_over_hard_goal <= 1.001);
  CHECK(s.max_end_over_goal <= 1.03);  // growing phases overshoot a little, as Go's do
  CHECK(s.mean_end_over_goal >= 0.95);
  CHECK(s.mean_end_over_goal <= 1.01);
}

TEST_CASE("jittery: a random allocation rate (±50 % per cycle) stays paced") {
  const uint64_t seed = seed_from_env();
  std::printf("jittery seed: %llu (replay with TRICOLOR_TEST_SEED=%llu)\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  Program p;
  p.name = "jittery alloc 0.05 ± 0.025 B/ns";
  p.alloc_bytes_per_core_ns = constant(0.05) + 0.025 * jitter(seed);
  Summary s;
  simulate(p, kWarmup, &s);
  CHECK(s.max_end_over_goal <= 1.0);  // assists absorb a fast cycle
  CHECK(s.mean_end_over_goal >= 0.95);
  CHECK(s.mean_assist_share < 0.10);
  CHECK(s.limited_cycles == 0);
}

TEST_CASE("heavy allocation: the mark cannot keep up alone; trigger at its floor, assists hold the goal") {
  Program p;
  p.name = "heavy alloc 0.15 B/ns x 4 cores";
  p.alloc_bytes_per_core_ns = constant(0.15);
  Summary s;
  const Run run = simulate(p, kWarmup, &s);
  CHECK(s.mean_trigger_fraction == doctest::Approx(kMinTriggerRunwayFraction).epsilon(0.01));
  CHECK(s.max_end_over_goal <= 1.001);
  CHECK(s.mean_assist_share > 0.15);
  CHECK(s.limited_cycles == 0);  // under half of the CPU
  // Floating garbage (black allocation) stays within 30 % of the runway: the
  // live heap the goal is computed from is less than 1.5× the reachable one.
  CHECK(double(run.cycles.back().live_before) <= 1.5 * 64 * MiB);
}

TEST_CASE("GOMEMLIMIT held: live under the limit, the heap never passes it") {
  Program p;
  p.name = "limit 256 MiB, live 160 MiB";
  p.live_bytes = constant(160 * MiB);
  p.settings.memory_limit_bytes = 256 << 20;
  Summary s;
  const Run run = simulate(p, 0, &s);
  CHECK(run.peak_heap <= size_t(256) << 20);
  CHECK(run.cycles.back().goal == size_t(256) << 20);
  CHECK(s.limited_cycles == 0);
}

TEST_CASE("GOMEMLIMIT exceeded: live over the limit; headroom kept, the limiter caps GC CPU, no death spiral") {
  Program p;
  p.name = "limit 256 MiB, live 300 MiB";
  p.live_bytes = constant(300 * MiB);
  p.alloc_bytes_per_core_ns = constant(0.25);
  p.settings.memory_limit_bytes = 256 << 20;
  p.cycles = 300;
  Summary s;
  const Run run = simulate(p, kWarmup, &s);
  for (const Cycle& c : run.cycles) CHECK(c.goal >= c.live_before + c.live_before / 16);
  CHECK(run.limited_ns > 0);
  CHECK(s.limited_cycles > 0);
  // The limiter holds the GC near half of the CPU once the bucket is full.
  CHECK(run.mutator_share() >= 0.45);
  CHECK(double(run.peak_heap) <= 2.0 * 300 * MiB);  // overshoot, bounded

  // The same program without the limiter: assists eat the mutators.
  Program spiral = p;
  spiral.name = "  ... without the CPU limiter";
  spiral.limiter_enabled = false;
  const Run without = simulate(spiral, kWarmup);
  CHECK(without.mutator_share() < 0.35);
  CHECK(run.mutator_share() > without.mutator_share() + 0.1);
}

TEST_CASE("the limiter disengages once the live heap falls back under the limit") {
  Program p;
  p.name = "limit 256 MiB, live 300 -> 100 MiB";
  p.live_bytes = constant(300 * MiB) + step(100, -200 * MiB);
  p.alloc_bytes_per_core_ns = constant(0.25);
  p.settings.memory_limit_bytes = 256 << 20;
  p.cycles = 200;
  const Run run = simulate(p, kWarmup);
  bool limited_before = false;
  for (size_t i = 0; i < 100 && i < run.cycles.size(); ++i) limited_before |= run.cycles[i].limited;
  CHECK(limited_before);
  const Summary after = summarize(run, 110);
  CHECK(after.cycles > 0);
  CHECK(after.limited_cycles == 0);
  CHECK(!run.limiting_at_end);
}

TEST_CASE("GOGC=off with a limit: collect only near the limit") {
  Program p;
  p.name = "GOGC=off, limit 256 MiB, live 64 MiB";
  p.settings.gc_percent = -1;
  p.settings.memory_limit_bytes = 256 << 20;
  p.cycles = 20;
  Summary s;
  const Run run = simulate(p, 1, &s);
  CHECK(run.peak_heap <= size_t(256) << 20);
  CHECK(s.min_end_over_goal >= 0.95);  // each mark ends close to the limit
  for (const Cycle& c : run.cycles) CHECK(double(c.trigger) >= 0.69 * 256 * MiB);
}

TEST_CASE("GOGC=off alone: never triggers") {
  Program p;
  p.name = "GOGC=off, no limit";
  p.settings.gc_percent = -1;
  p.max_time_ns = 10'000 * kMs;
  const Run run = simulate(p, 0);
  CHECK(run.cycles.empty());
  CHECK(run.time_ns == p.max_time_ns);
  CHECK(run.peak_heap >= size_t(1) << 30);  // 2 GB/s for 10 s, never collected
}

TEST_CASE("trigger floor: 70 % of the runway bounds floating garbage whatever the allocation rate; 5 % does not") {
  // Why kMinTriggerRunwayFraction is Go's 0.7 and not lower. Everything
  // allocated during a mark is black, counts as live and raises the next
  // goal. With a low floor the mark starts early and runs unassisted, so that
  // floating garbage grows with allocation rate / mark rate; at 0.7 it is at
  // most 30 % of the runway (live ≤ reachable / 0.7 at GOGC=100), and the
  // price is paid in assists.
  Program p;
  p.name = "heavier alloc, trigger floor 0.70";
  p.alloc_bytes_per_core_ns = constant(0.3);
  Summary go_summary;
  const Run go_floor = simulate(p, kWarmup, &go_summary);
  Program low = p;
  low.name = "heavier alloc, trigger floor 0.05";
  low.tuning.min_trigger_runway_fraction = 0.05;
  Summary low_summary;
  const Run low_floor = simulate(low, kWarmup, &low_summary);
  const double inflation = double(go_floor.cycles.back().live_before) / (64 * MiB);
  const double low_inflation = double(low_floor.cycles.back().live_before) / (64 * MiB);
  std::printf("  live the goal is computed from / reachable: %.2f with floor 0.70, %.2f with floor 0.05\n", inflation,
              low_inflation);
  CHECK(inflation <= 1 / kMinTriggerRunwayFraction + 0.01);
  CHECK(low_inflation > 2.0);
  CHECK(double(low_floor.peak_heap) > 1.4 * double(go_floor.peak_heap));
  CHECK(go_summary.mean_gc_share > low_summary.mean_gc_share);  // the price: assists
}
