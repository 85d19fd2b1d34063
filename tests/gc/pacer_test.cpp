// pacer_test.cpp — the heap goal as a deterministic function, in the style of
// Go's pacer tests: named scenarios, asserted ratios, no clocks.
#include <doctest/doctest.h>

#include "../../gc/pacer.h"
#include "../../gc/size_classes.h"

using namespace tricolor::gc;

namespace {
constexpr size_t MiB = size_t{1} << 20;
constexpr int64_t kOff = INT64_MAX;

PacerInputs inputs(size_t live, int gogc, int64_t limit = kOff, size_t min_heap = 4 * MiB, size_t overhead = 0) {
  return PacerInputs{live, gogc, limit, min_heap, overhead};
}
}  // namespace

TEST_CASE("GOGC scales the goal with the live heap") {
  CHECK(heap_goal(inputs(100 * MiB, 100)) == 200 * MiB);
  CHECK(heap_goal(inputs(100 * MiB, 50)) == 150 * MiB);
  CHECK(heap_goal(inputs(100 * MiB, 200)) == 300 * MiB);
  CHECK(heap_goal(inputs(100 * MiB, 0)) == 100 * MiB);  // collect continuously
}

TEST_CASE("the minimum heap is a floor") {
  CHECK(heap_goal(inputs(0, 100)) == 4 * MiB);
  CHECK(heap_goal(inputs(1 * MiB, 100)) == 4 * MiB);
  CHECK(heap_goal(inputs(1 * MiB, 100, kOff, 64 * MiB)) == 64 * MiB);
}

TEST_CASE("GOGC=off: no goal without a limit, the limit with one") {
  CHECK(heap_goal(inputs(100 * MiB, -1)) == kNoHeapGoal);
  CHECK(heap_goal(inputs(100 * MiB, -1, 512 * MiB)) == 512 * MiB);
  CHECK(heap_goal(inputs(100 * MiB, -1, 512 * MiB, 4 * MiB, 12 * MiB)) == 500 * MiB);
}

TEST_CASE("GOMEMLIMIT caps the GOGC goal, minus non-heap overhead") {
  CHECK(heap_goal(inputs(100 * MiB, 100, 150 * MiB)) == 150 * MiB);
  CHECK(heap_goal(inputs(100 * MiB, 100, 150 * MiB, 4 * MiB, 10 * MiB)) == 140 * MiB);
  CHECK(heap_goal(inputs(100 * MiB, 100, 1024 * MiB)) == 200 * MiB);  // limit far: GOGC rules
}

TEST_CASE("a limit below the live heap keeps a headroom of live/16 instead of collecting continuously") {
  CHECK(heap_goal(inputs(160 * MiB, 100, 100 * MiB)) == 170 * MiB);
  CHECK(heap_goal(inputs(0, 100, 0)) == kSpanBytes);
  CHECK(heap_goal(inputs(16 * MiB, -1, 1 * MiB)) == 17 * MiB);
}

TEST_CASE("scenario: steady allocation with a stable live heap converges to a fixed goal") {
  size_t live = 50 * MiB;
  size_t goal = heap_goal(inputs(live, 100));
  for (int cycle = 0; cycle < 10; ++cycle) {
    live = 50 * MiB;  // each cycle frees what the last one allocated
    const size_t next = heap_goal(inputs(live, 100));
    CHECK(next == goal);
    CHECK(next == 100 * MiB);
    goal = next;
  }
}

TEST_CASE("scenario: a step in live heap moves the goal in one cycle, a limit holds it") {
  const size_t before = heap_goal(inputs(50 * MiB, 100, 300 * MiB));
  const size_t after = heap_goal(inputs(200 * MiB, 100, 300 * MiB));
  CHECK(before == 100 * MiB);
  CHECK(after == 300 * MiB);  // capped, not 400
}

TEST_CASE("no overflow for huge live heaps and GOGC values") {
  CHECK(heap_goal(inputs(SIZE_MAX / 2, 2147483647)) == kNoHeapGoal);
  CHECK(heap_goal(inputs(SIZE_MAX / 4, 100)) == SIZE_MAX / 4 * 2);
}

TEST_CASE("empty memory retained after a cycle: up to 110 % of the goal, nothing beyond") {
  CHECK(retained_free_bytes(100 * MiB, 40 * MiB) == 70 * MiB);
  CHECK(retained_free_bytes(100 * MiB, 110 * MiB) == 0);
  CHECK(retained_free_bytes(100 * MiB, 200 * MiB) == 0);
  CHECK(retained_free_bytes(kNoHeapGoal, 1 * MiB) == SIZE_MAX);
}

// ---------------------------------------------------------------- trigger and assists

namespace {
constexpr size_t KiB = size_t{1} << 10;

PacerSettings settings(int gogc = 100, int64_t limit = kOff) {
  PacerSettings s;
  s.gc_percent = gogc;
  s.memory_limit_bytes = limit;
  return s;
}

// A mark that scanned `scanned`, during which the heap grew from `start` to
// `end`; no CPU times (the growth sample is then the raw ratio).
MarkResult mark(size_t live, size_t start, size_t end, size_t scanned = 0) {
  return MarkResult{live, scanned, start, end, 0, 0, 0, 0};
}
}  // namespace

TEST_CASE("first cycle, no history: trigger at 70 % of the runway") {
  Pacer fresh;
  CHECK(fresh.goal_bytes() == 4 * MiB);
  CHECK(fresh.trigger_bytes() == size_t(0.7 * 4 * MiB));
  CHECK_FALSE(fresh.has_history());

  Pacer pacer(settings());
  pacer.set_live_bytes(100 * MiB);
  CHECK(pacer.goal_bytes() == 200 * MiB);
  CHECK(pacer.trigger_bytes() == 170 * MiB);
  CHECK_FALSE(pacer.has_history());  // set_live_bytes does not learn
}

TEST_CASE("trigger = goal − expected growth × 1.1, from the bytes allocated per byte marked") {
  Pacer pacer(settings());
  // 20 MiB allocated while 100 MiB were marked: 0.2 B per B.
  pacer.end_mark(mark(100 * MiB, 170 * MiB, 190 * MiB));
  CHECK(pacer.has_history());
  CHECK(pacer.growth_per_scan_byte() == doctest::Approx(0.2));
  CHECK(pacer.expected_mark_growth_bytes() == 20 * MiB);
  CHECK(pacer.goal_bytes() == 200 * MiB);
  CHECK(pacer.trigger_bytes() == 178 * MiB);  // 200 − 20 × 1.1
}

TEST_CASE("the growth estimate is an EWMA: the newest cycle weighs one half") {
  Pacer pacer(settings());
  pacer.end_mark(mark(100 * MiB, 170 * MiB, 180 * MiB));  // 0.1
  pacer.end_mark(mark(100 * MiB, 170 * MiB, 200 * MiB));  // 0.3
  CHECK(pacer.growth_per_scan_byte() == doctest::Approx(0.2));
  pacer.end_mark(mark(100 * MiB, 170 * MiB, 170 * MiB));  // 0
  CHECK(pacer.growth_per_scan_byte() == doctest::Approx(0.1));
}

TEST_CASE("the growth per byte marked counts the scanned bytes, not black allocation") {
  Pacer pacer(settings());
  // live 120 MiB = 100 MiB traced + 20 MiB allocated black.
  pacer.end_mark(mark(120 * MiB, 170 * MiB, 190 * MiB, 100 * MiB));
  CHECK(pacer.growth_per_scan_byte() == doctest::Approx(0.2));
  CHECK(pacer.expected_scan_bytes() == 100 * MiB);
  CHECK(pacer.goal_bytes() == 240 * MiB);
  CHECK(pacer.trigger_bytes() == 218 * MiB);  // 240 − 0.2 × 100 × 1.1
}

TEST_CASE("trigger clamps: never before 70 % of the runway, never after 95 %") {
  Pacer fast(settings());
  fast.end_mark(mark(100 * MiB, 170 * MiB, 370 * MiB));  // 2 B allocated per B marked
  CHECK(fast.expected_mark_growth_bytes() == 200 * MiB);
  CHECK(fast.trigger_bytes() == 170 * MiB);  // 200 − 220 would be below live
  Pacer idle(settings());
  idle.end_mark(mark(100 * MiB, 170 * MiB, 170 * MiB));  // nothing allocated during the mark
  CHECK(idle.trigger_bytes() == 195 * MiB);  // some runway is always left
  // The same bounds under a memory limit, around the capped goal.
  Pacer limited(settings(100, 150 * MiB));
  limited.end_mark(mark(100 * MiB, 130 * MiB, 130 * MiB));
  CHECK(limited.goal_bytes() == 150 * MiB);
  CHECK(limited.trigger_bytes() == size_t(100 * MiB + 0.95 * 50 * MiB));
}

TEST_CASE("growth is rescaled to the background marker's pace when assists slowed the mutators") {
  // Raw: 20 MiB per 100 MiB marked. Mutators ran 1 s of their own work and
  // 1 s of assists, the background marker 1 s: alone, it would have had half
  // of the GC CPU (the mark twice as long) and the mutators twice the time.
  MarkResult m = mark(100 * MiB, 170 * MiB, 190 * MiB);
  m.mutator_cpu_ns = 1'000'000'000;
  m.assist_cpu_ns = 1'000'000'000;
  m.background_cpu_ns = 1'000'000'000;
  CHECK(growth_per_scan_byte_sample(m) == doctest::Approx(0.8));
  m.assist_cpu_ns = 0;  // no assists: the raw ratio
  CHECK(growth_per_scan_byte_sample(m) == doctest::Approx(0.2));
  m.background_cpu_ns = 0;  // no CPU split known: the raw ratio
  CHECK(growth_per_scan_byte_sample(m) == doctest::Approx(0.2));
  CHECK(growth_per_scan_byte_sample(mark(0, 10 * MiB, 20 * MiB)) == 0);  // nothing marked
}

TEST_CASE("an empty mark teaches nothing about growth") {
  Pacer pacer(settings());
  pacer.end_mark(mark(100 * MiB, 170 * MiB, 190 * MiB));
  pacer.end_mark(mark(0, 0, 50 * MiB));
  CHECK(pacer.growth_per_scan_byte() == doctest::Approx(0.2));
  CHECK(pacer.live_bytes() == 0);
  CHECK(pacer.goal_bytes() == 4 * MiB);
}

TEST_CASE("assist ratio: expected mark work per byte of runway goal − trigger") {
  Pacer pacer(settings());
  pacer.set_live_bytes(100 * MiB);  // trigger 170, goal 200
  CHECK(pacer.assist_work_per_byte() == doctest::Approx(100.0 / 30.0));
  pacer.end_mark(mark(100 * MiB, 170 * MiB, 190 * MiB));  // trigger 178
  CHECK(pacer.assist_work_per_byte() == doctest::Approx(100.0 / 22.0));
  // GOGC=0: no runway, a finite rate over the 64 KiB minimum.
  Pacer zero(settings(0));
  zero.set_live_bytes(100 * MiB);
  CHECK(zero.trigger_bytes() == zero.goal_bytes());
  CHECK(zero.assist_work_per_byte() == doctest::Approx(double(100 * MiB) / double(64 * KiB)));
}

TEST_CASE("GOGC=off: no trigger, no assists; with a limit, triggers near it") {
  Pacer off(settings(-1));
  off.end_mark(mark(100 * MiB, 170 * MiB, 190 * MiB));
  CHECK(off.goal_bytes() == kNoHeapGoal);
  CHECK(off.trigger_bytes() == kNoHeapGoal);
  CHECK(off.hard_goal_bytes() == kNoHeapGoal);
  CHECK(off.assist_work_per_byte() == 0);
  CHECK(off.plan_mark(500 * MiB).assist_work_per_byte_at(600 * MiB, 0) == 0);

  Pacer near_limit(settings(-1, 512 * MiB));
  near_limit.end_mark(mark(100 * MiB, 400 * MiB, 420 * MiB));
  CHECK(near_limit.goal_bytes() == 512 * MiB);
  CHECK(near_limit.trigger_bytes() == 490 * MiB);  // 512 − 0.2 × 100 × 1.1
  CHECK(near_limit.hard_goal_bytes() == 512 * MiB);
}

TEST_CASE("new settings move goal and trigger at once, keeping the history") {
  Pacer pacer(settings());
  pacer.end_mark(mark(100 * MiB, 170 * MiB, 190 * MiB));
  pacer.set_settings(settings(200));
  CHECK(pacer.goal_bytes() == 300 * MiB);
  CHECK(pacer.trigger_bytes() == 278 * MiB);
  CHECK(pacer.growth_per_scan_byte() == doctest::Approx(0.2));
  pacer.set_live_bytes(50 * MiB);  // a stop-the-world cycle
  CHECK(pacer.goal_bytes() == 150 * MiB);
  CHECK(pacer.trigger_bytes() == 139 * MiB);  // 150 − 0.2 × 50 × 1.1
}

TEST_CASE("hard goal: 10 % over the goal, never past a limit the goal is under") {
  Pacer plain(settings());
  plain.set_live_bytes(100 * MiB);
  CHECK(plain.hard_goal_bytes() == 220 * MiB);
  Pacer capped(settings(100, 210 * MiB));
  capped.set_live_bytes(100 * MiB);
  CHECK(capped.hard_goal_bytes() == 210 * MiB);
  Pacer at_limit(settings(100, 150 * MiB));
  at_limit.set_live_bytes(100 * MiB);
  CHECK(at_limit.hard_goal_bytes() == 150 * MiB);
  Pacer over_limit(settings(100, 100 * MiB));  // headroom goal above the limit
  over_limit.set_live_bytes(160 * MiB);
  CHECK(over_limit.goal_bytes() == 170 * MiB);
  CHECK(over_limit.hard_goal_bytes() == 170 * MiB);
}

TEST_CASE("assists during a mark: revised from the work done and the heap reached") {
  Pacer pacer(settings());
  pacer.set_live_bytes(100 * MiB);  // trigger 170, goal 200, hard goal 220
  const MarkPlan plan = pacer.plan_mark(170 * MiB);
  CHECK(plan.goal_bytes == 200 * MiB);
  CHECK(plan.hard_goal_bytes == 220 * MiB);
  // At the start, the planned rate; on schedule halfway, the same rate.
  CHECK(plan.assist_work_per_byte_at(170 * MiB, 0) == doctest::Approx(pacer.assist_work_per_byte()));
  CHECK(plan.assist_work_per_byte_at(185 * MiB, 50 * MiB) == doctest::Approx(100.0 / 30.0));
  // Behind schedule: more work per byte; ahead: less.
  CHECK(plan.assist_work_per_byte_at(185 * MiB, 20 * MiB) == doctest::Approx(80.0 / 15.0));
  CHECK(plan.assist_work_per_byte_at(185 * MiB, 80 * MiB) == doctest::Approx(20.0 / 15.0));
  // More work than expected: the worst case is the whole heap at mark start
  // (170 MiB), the runway stretched by 170/100 up to the hard goal.
  CHECK(plan.assist_work_per_byte_at(190 * MiB, 110 * MiB) == doctest::Approx(60.0 / 30.0));
  // Past the goal: finish by the hard goal, assuming the worst.
  CHECK(plan.assist_work_per_byte_at(210 * MiB, 90 * MiB) == doctest::Approx(80.0 / 10.0));
  // Past the hard goal: a huge but finite rate (assists do everything).
  const double late = plan.assist_work_per_byte_at(230 * MiB, 90 * MiB);
  CHECK(late == doctest::Approx(double(80 * MiB)));
  // Work done past the worst case: a little is always assumed left.
  CHECK(plan.assist_work_per_byte_at(190 * MiB, 200 * MiB) == doctest::Approx(4.0 / 30.0 / 1024.0));
}

// ---------------------------------------------------------------- CPU limiter

namespace {
constexpr uint64_t kMsNs = 1'000'000;

// Feeds `updates` updates of 10 ms on `cores` cores in which the GC takes
// `gc_share` of the CPU; returns the update at which limiting began (or -1).
int feed(CpuLimiter& limiter, uint64_t& now, unsigned cores, double gc_share, int updates) {
  const auto total = static_cast<uint64_t>(10 * kMsNs * cores);
  const auto gc = static_cast<uint64_t>(static_cast<double>(total) * gc_share);
  for (int i = 0; i < updates; ++i) {
    now += 10 * kMsNs;
    limiter.update(now, gc, total - gc);
    if (limiter.limiting()) return i;
  }
  return -1;
}
}  // namespace

TEST_CASE("CPU limiter: the bucket holds one second per core") {
  CpuLimiter limiter(4);
  CHECK(limiter.capacity_ns() == 4'000'000'000);
  CHECK(limiter.fill_ns() == 0);
  CHECK_FALSE(limiter.limiting());
  limiter.set_cores(2);
  CHECK(limiter.capacity_ns() == 2'000'000'000);
}

TEST_CASE("CPU limiter: never engages at or under half of the CPU, however long") {
  CpuLimiter limiter(4);
  uint64_t now = 0;
  CHECK(feed(limiter, now, 4, 0.5, 100'000) == -1);
  CHECK(limiter.fill_ns() == 0);
  CHECK(feed(limiter, now, 4, 0.3, 100'000) == -1);
}

TEST_CASE("CPU limiter: engages once the GC's excess over half fills the window") {
  // 75 %: the bucket fills at (0.75 − 0.25) × 4 cores = 2 ns per ns, so 4 s
  // of capacity fill in 2 s = 200 updates of 10 ms.
  CpuLimiter limiter(4);
  uint64_t now = 0;
  CHECK(feed(limiter, now, 4, 0.75, 1000) == 199);
  CHECK(limiter.fill_ns() == limiter.capacity_ns());
  // 60 %: 0.8 ns per ns, 5 s.
  CpuLimiter slower(4);
  now = 0;
  CHECK(feed(slower, now, 4, 0.6, 1000) == 499);
  // 100 % of every core: one window.
  CpuLimiter all(4);
  now = 0;
  CHECK(feed(all, now, 4, 1.0, 1000) == 99);
}

TEST_CASE("CPU limiter: disengages after the bucket drains by 1/64 of it") {
  CpuLimiter limiter(4);
  uint64_t now = 0;
  REQUIRE(feed(limiter, now, 4, 1.0, 1000) >= 0);
  // Mutators only: drains 40 ms per 10 ms update; the band is 62.5 ms.
  now += 10 * kMsNs;
  limiter.update(now, 0, 40 * kMsNs);
  CHECK(limiter.limiting());
  now += 10 * kMsNs;
  limiter.update(now, 0, 40 * kMsNs);
  CHECK_FALSE(limiter.limiting());
  CHECK(limiter.fill_ns() == limiter.capacity_ns() - 80 * kMsNs);
  // Not back on until full again.
  now += 10 * kMsNs;
  limiter.update(now, 40 * kMsNs, 0);
  CHECK_FALSE(limiter.limiting());
  now += 10 * kMsNs;
  limiter.update(now, 40 * kMsNs, 0);
  CHECK(limiter.limiting());
}

TEST_CASE("CPU limiter: the bucket is bounded; the excess is counted as overflow") {
  CpuLimiter limiter(2);
  limiter.update(1000 * kMsNs, 0, 0);
  limiter.update(6000 * kMsNs, 10'000 * kMsNs, 0);  // 5 s on both cores: 10 s of GC
  CHECK(limiter.limiting());
  CHECK(limiter.fill_ns() == limiter.capacity_ns());
  CHECK(limiter.overflow_ns() == 8'000 * kMsNs);
  limiter.update(16'000 * kMsNs, 0, 20'000 * kMsNs);  // 10 s of mutators: empty, not negative
  CHECK(limiter.fill_ns() == 0);
  CHECK_FALSE(limiter.limiting());
}

TEST_CASE("CPU limiter: updates larger than the cores could give are scaled down") {
  CpuLimiter limiter(2);
  limiter.update(0, 0, 0);
  // 10 ms × 2 cores = 20 ms available; 30 ms GC + 10 ms mutator claimed.
  limiter.update(10 * kMsNs, 30 * kMsNs, 10 * kMsNs);
  CHECK(limiter.fill_ns() == 10 * kMsNs);  // 15 − 5, not 30 − 10
  // Without a known mutator time, the rest of the cores counts as mutator.
  CpuLimiter busy(2);
  busy.update(0, 0, 0);
  busy.update_assuming_busy_cores(10 * kMsNs, 15 * kMsNs);
  CHECK(busy.fill_ns() == 10 * kMsNs);  // 15 − 5
}

TEST_CASE("CPU limiter: asks for an update when the last one is older than 1 ms") {
  CpuLimiter limiter(1);
  CHECK(limiter.needs_update(0));
  limiter.update(5 * kMsNs, 0, 0);
  CHECK_FALSE(limiter.needs_update(5 * kMsNs + 999'999));
  CHECK(limiter.needs_update(6 * kMsNs));
}
