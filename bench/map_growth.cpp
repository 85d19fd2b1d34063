// map_growth.cpp — per-insert latency while one map grows from empty to
// 10 M entries with the collector running: the managed map's two growth
// modes beside absl::flat_hash_map and Go's built-in map.
//
// Workload (bench/map_workload.h, the Go peer's contract): keys mix(i),
// value i, i = 0..--entries-1 (default 10 M), no reserve. Background, the Go
// peer's growth mode: a live pointer-rich binary tree of --live-mb MiB
// (default 64; 32-byte nodes, here as in Go)
// built first, then one explicit collection (the pacer's goal from the real
// live heap: Go's runtime.GC()), then a registered mutator thread building
// throwaway 1000-node trees continuously (yielding between trees) for the
// whole growth, so that cycles overlap it. Every insert is timed on its own
// with steady_clock (t = now; insert; safepoint poll; lat[i] = now - t: the
// poll is in the timed region, so a handshake the inserting thread answers
// lands in that insert's latency); the latency array (8 bytes per entry) is
// preallocated and written before the loop, so none of its page faults
// land in it. Nothing is subtracted: the timer's own cost (the median of a
// now/now pair) is reported apart, as timer_overhead_ns.
//
// Implementations, each run in a fresh process (a fresh Runtime, heap and
// page tables; the driver re-executes this program with --impl IMPL):
//   deferred  Map<uint64_t, uint64_t>, MapGrowth::kDeferred (the default):
//             a write evacuates its own old bucket (+1 only when behind the
//             pace), the collector's background workers do the rest.
//   inline    the same with MapGrowth::kInline (Go 1.19's behaviour: two
//             old buckets per write, nothing deferred).
//   absl      absl::flat_hash_map<uint64_t, uint64_t>, no reserve: each
//             rehash moves the whole table inside one insert. Same background
//             (runtime, live tree, churn thread); the inserting thread is in
//             a BlockingRegion (it does not touch the managed heap).
//   floor     no map: each timed step writes key i to a slot of a 256 MiB
//             managed array (about the final table's size: the same heap
//             goal) written once before the loop (so it takes no page
//             fault), polls the safepoint, then spins until its place in
//             a schedule of one step per --floor-step-ns (a step made late
//             by an interruption does not spin, so the loop lasts N steps). Same background. It shows
//             what this machine and the collector's background alone do to
//             a thread's steps of that length: timer interrupts, preemption
//             by the churn thread and the collector's threads, handshakes —
//             a tail no map can go below. The share of steps an interruption
//             hits grows with the loop's length, so by default the floor is
//             paced like the map: --floor-step-ns defaults to deferred's
//             mean insert time in the same round (total_s / entries), 0
//             (a bare store) when deferred did not run before it.
//   go        the Go peer: mapbench -mode growth -entries N -live-mb L
//             (its own process and metrics; skipped with a message when the
//             binary is missing).
// With --repeat R > 1 the order is A B C D A B C D ...; each metric is then
// the median over the runs (the lower median for an even R, so that it is a
// value some run had; insert_max_at_entries from the run whose insert_max_ns
// is that median), and *_worst_run gives the worst run's insert_max_ns,
// insert_p9999_ns and pause_max_ns.
//
// Metrics: insert_p50_ns, insert_p99_ns, insert_p999_ns, insert_p9999_ns,
// insert_max_ns, insert_max_at_entries (entries in the map before the
// slowest insert), inserts_over_50us, total_s (the loop, timing included),
// collections (cycles ended during the loop), pause_p99_ns, pause_max_ns
// (every mutator pause in the loop: handshakes of both threads), ttsp_max_ns,
// peak_rss_bytes; for deferred and inline: evacuated_by_workers,
// evacuated_by_mutators, worker_evacuation_share (workers / both), growths
// (doublings), same_size_growths; for ours and absl: timer_overhead_ns,
// page_faults (minor faults taken by the inserting thread in the loop),
// rehashes (absl), churn_trees, live_mb.
//
// Diagnosis: each child prints its --top (default 12) slowest inserts and
// what happened in them (read outside the timed window: a growth started or
// finished, old buckets this write evacuated, deferred assist debt charged
// or paid, an overflow bucket allocated; with --probe, the page faults and
// context switches of that insert, at the cost of a getrusage call after
// every insert), and the same breakdown for all inserts over --breakdown-us
// (default 50 µs).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <tricolor/tricolor.h>
#include <vector>

#if TRICOLOR_BENCH_HAVE_ABSL
#include <absl/container/flat_hash_map.h>
#endif

#include "harness.h"
#include "map_workload.h"
#include "record.h"

namespace {

using map_bench::key_of;
using map_bench::now_ns;
using tricolor_bench::Metrics;
using tricolor_bench::set_metric;
using IntMap = tricolor::Map<uint64_t, uint64_t>;

struct Config {
  uint64_t entries = 10'000'000;
  uint64_t live_mb = 64;
  uint64_t repeat = 1;
  uint64_t top = 12;
  uint64_t breakdown_us = 50;
  bool probe = false;
  int64_t floor_step_ns = -1;  // -1: deferred's mean insert time in the same round, else 0
  std::vector<std::string> impls = {"deferred", "inline", "absl", "floor", "go"};
  std::string go_peer;
  std::string impl;  // child mode
};
Config g_config;

constexpr const char* kKnown[] = {"deferred", "inline", "absl", "floor", "go"};

bool g_failed = false;  // a correctness check failed in this child: no result line
[[gnu::format(printf, 1, 2)]] void check_failed(const char* format, ...) {
  std::fprintf(stderr, "bench_map_growth: CHECK FAILED: ");
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  g_failed = true;
}

// What happened inside one insert (diagnosis), read after its timed window.
enum : uint8_t {
  kGrowthStarted = 1,    // this write started a growth (a new table) / absl: a rehash
  kGrowthFinished = 2,   // this write finished one
  kGrowing = 4,          // the map was growing during the write
  kDebtCharged = 8,      // deferred assist debt rose: a table allocated during a mark
  kDebtPaid = 16,        // deferred assist debt fell: an assist slice paid
  kOverflow = 32,        // an overflow bucket was allocated (process-wide counter)
  kFaulted = 64,         // --probe: the write took a page fault
  kSwitched = 128,       // --probe: the thread was switched out during the write
};

// --probe: what getrusage says about one insert.
struct Probe {
  uint8_t faults = 0;
  uint8_t voluntary = 0;    // context switches: blocked
  uint8_t involuntary = 0;  // preempted (or yielded)
};

std::string describe(uint8_t flags, uint8_t evacuated, Probe probe) {
  std::string out;
  auto add = [&](const char* text) { out += out.empty() ? text : std::string(", ") + text; };
  if (flags & kGrowthStarted) add("growth started (new table)");
  if (flags & kGrowthFinished) add("growth finished");
  if ((flags & kGrowing) && !(flags & (kGrowthStarted | kGrowthFinished))) add("growing");
  if (evacuated != 0) add(("evacuated " + std::to_string(evacuated) + " old bucket(s)").c_str());
  if (flags & kDebtCharged) add("assist debt charged");
  if (flags & kDebtPaid) add("assist slice paid");
  if (flags & kOverflow) add("overflow bucket");
  if (flags & kFaulted) add((std::to_string(probe.faults) + " page fault(s)").c_str());
  if (flags & kSwitched) {
    if (probe.involuntary != 0) add((std::to_string(probe.involuntary) + " involuntary context switch(es)").c_str());
    if (probe.voluntary != 0) add((std::to_string(probe.voluntary) + " voluntary context switch(es)").c_str());
  }
  return out.empty() ? "nothing visible (plain insert)" : out;
}

// ------------------------------------------------------------------ child --

struct Loop {
  std::vector<int64_t> lat;
  std::vector<uint8_t> flags;
  std::vector<uint8_t> evacuated;
  std::vector<Probe> probes;
  double total_s = 0;
  uint64_t page_faults = 0;
  uint64_t rehashes = 0;
};

void print_slowest(const Loop& loop, uint64_t top) {
  const size_t n = loop.lat.size();
  std::vector<uint32_t> order;
  for (size_t i = 0; i < n; ++i)
    if (loop.lat[i] > 20000) order.push_back(static_cast<uint32_t>(i));
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return loop.lat[a] > loop.lat[b]; });
  const auto probe_of = [&](size_t i) { return loop.probes.empty() ? Probe{} : loop.probes[i]; };
  std::printf("slowest inserts (entries before the insert: latency — what happened in it):\n");
  for (size_t k = 0; k < order.size() && k < top; ++k) {
    const size_t i = order[k];
    std::printf("  %9zu: %8.1f us — %s\n", i, static_cast<double>(loop.lat[i]) / 1e3,
                describe(loop.flags[i], loop.evacuated[i], probe_of(i)).c_str());
  }
  // Breakdown of the inserts over --breakdown-us (default 50 µs).
  std::map<std::string, std::pair<uint64_t, int64_t>> kinds;  // description → count, max
  uint64_t over = 0;
  for (size_t i = 0; i < n; ++i) {
    if (loop.lat[i] <= static_cast<int64_t>(g_config.breakdown_us) * 1000) continue;
    ++over;
    const uint8_t f = loop.flags[i] & ~kGrowing;  // "growing" alone is the common case
    Probe p = probe_of(i);  // counts shown as 0/1 in the breakdown
    p = {static_cast<uint8_t>(p.faults > 0), static_cast<uint8_t>(p.voluntary > 0), static_cast<uint8_t>(p.involuntary > 0)};
    std::string what = describe(f, loop.evacuated[i] > 0 ? 1 : 0, p);
    auto& [count, max] = kinds[what];
    ++count;
    max = std::max(max, loop.lat[i]);
  }
  std::printf("inserts over %" PRIu64 " us: %" PRIu64 "%s\n", g_config.breakdown_us, over,
              over ? ", by what happened in them:" : "");
  for (const auto& [what, cm] : kinds)
    std::printf("  %7" PRIu64 " (max %8.1f us): %s\n", cm.first, static_cast<double>(cm.second) / 1e3, what.c_str());
}

void record_probe(Loop& loop, size_t i, map_bench::ThreadUsage& usage, uint8_t& flags) {
  const map_bench::ThreadUsage now = map_bench::thread_usage();
  auto clamp = [](uint64_t d) { return static_cast<uint8_t>(std::min<uint64_t>(255, d)); };
  Probe& p = loop.probes[i];
  p.faults = clamp(now.faults - usage.faults);
  p.voluntary = clamp(now.voluntary - usage.voluntary);
  p.involuntary = clamp(now.involuntary - usage.involuntary);
  if (p.faults != 0) flags |= kFaulted;
  if (p.voluntary != 0 || p.involuntary != 0) flags |= kSwitched;
  usage = now;
}

// The growth loop of a tricolor Map.
void grow_tricolor(tricolor::Mutator& m, tricolor::MapGrowth growth, Loop& loop) {
  const uint64_t n = g_config.entries;
  tricolor::Local<IntMap> map(m, tricolor::make<IntMap>(m, tricolor::MapOptions{growth, 1}));
  tricolor::map_detail::MapCounters& counters = tricolor::map_detail::counters();
  uint64_t overflow = counters.overflow_buckets.load(std::memory_order_relaxed);
  uint64_t by_mutators = counters.evacuated_by_mutators.load(std::memory_order_relaxed);
  bool growing = false;
  uint8_t log2 = 0;
  map_bench::ThreadUsage usage = map_bench::thread_usage();
  const uint64_t faults_start = usage.faults;
  const bool probe = g_config.probe;
  const int64_t start = now_ns();
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t key = key_of(i);
    const size_t debt = m.deferred_debt_objects();
    const int64_t t = now_ns();
    map->insert_or_assign(m, key, i);
    m.safepoint();
    loop.lat[i] = now_ns() - t;
    // Diagnosis, outside the timed window.
    uint8_t f = 0;
    const bool now_growing = map->growing();
    const uint8_t now_log2 = map->log2_buckets();
    if ((now_growing && !growing) || now_log2 != log2) f |= kGrowthStarted;
    if (growing && !now_growing) f |= kGrowthFinished;
    if (growing || now_growing) f |= kGrowing;
    growing = now_growing;
    log2 = now_log2;
    const size_t now_debt = m.deferred_debt_objects();
    if (now_debt > debt) f |= kDebtCharged;
    if (now_debt < debt) f |= kDebtPaid;
    const uint64_t now_overflow = counters.overflow_buckets.load(std::memory_order_relaxed);
    if (now_overflow != overflow) f |= kOverflow;
    overflow = now_overflow;
    const uint64_t now_by_mutators = counters.evacuated_by_mutators.load(std::memory_order_relaxed);
    loop.evacuated[i] = static_cast<uint8_t>(std::min<uint64_t>(255, now_by_mutators - by_mutators));
    by_mutators = now_by_mutators;
    if (probe) record_probe(loop, i, usage, f);
    loop.flags[i] = f;
  }
  loop.total_s = static_cast<double>(now_ns() - start) * 1e-9;
  loop.page_faults = map_bench::thread_usage().faults - faults_start;
  if (map->size() != n) check_failed("map size %zu, expected %" PRIu64, map->size(), n);
  // Every key, outside the timed loop (the map grew under concurrent evacuation).
  uint64_t bad = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t* v = map->find(key_of(i));
    bad += v == nullptr || *v != i;
    if ((i & 1023) == 0) m.safepoint();
  }
  if (bad != 0) check_failed("%" PRIu64 " keys missing or wrong after the growth", bad);
}

// The floor's array: a managed object of 256 MiB of plain words (after the
// object), about the final table's size, so that the heap goal and the
// collector's rhythm are those of the map runs.
struct FloorSlots {
  static constexpr size_t kSlots = size_t{1} << 25;
  uint64_t* slots() { return reinterpret_cast<uint64_t*>(this + 1); }
  void trace(tricolor::Visitor&) const {}
};

// The floor's array, allocated and written before the measured window.
FloorSlots* prepare_floor(tricolor::Mutator& m) {
  FloorSlots* array = tricolor::make<FloorSlots>(m, tricolor::AdditionalBytes{FloorSlots::kSlots * sizeof(uint64_t)});
  uint64_t* slots = array->slots();
  for (size_t at = 0; at < FloorSlots::kSlots; at += size_t{1} << 13) {  // 64 KiB at a time: answer handshakes
    std::fill(slots + at, slots + at + (size_t{1} << 13), 1);
    m.safepoint();
  }
  return array;
}

// The floor: the same timed loop with a store into memory already touched.
void store_floor(tricolor::Mutator& m, FloorSlots& array, Loop& loop) {
  const uint64_t n = g_config.entries;
  constexpr size_t kMask = FloorSlots::kSlots - 1;
  uint64_t* slots = array.slots();
  map_bench::ThreadUsage usage = map_bench::thread_usage();
  const uint64_t faults_start = usage.faults;
  const bool probe = g_config.probe;
  const int64_t step = std::max<int64_t>(0, g_config.floor_step_ns);
  std::printf("floor: one step per %" PRId64 " ns\n", step);
  const int64_t start = now_ns();
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t key = key_of(i);
    const int64_t t = now_ns();
    slots[key & kMask] = i;
    m.safepoint();
    int64_t end = now_ns();
    const int64_t due = start + static_cast<int64_t>(i + 1) * step;  // on schedule: late steps do not spin
    while (end < due) end = now_ns();
    loop.lat[i] = end - t;
    uint8_t f = 0;
    loop.evacuated[i] = 0;
    if (probe) record_probe(loop, i, usage, f);
    loop.flags[i] = f;
  }
  loop.total_s = static_cast<double>(now_ns() - start) * 1e-9;
  loop.page_faults = map_bench::thread_usage().faults - faults_start;
  uint64_t bad = 0;
  for (uint64_t i = 0; i < 1000; ++i) bad += slots[key_of(n - 1 - i) & kMask] == 1;
  if (bad != 0) check_failed("floor: %" PRIu64 " of the last stores missing", bad);
}

#if TRICOLOR_BENCH_HAVE_ABSL
void grow_absl(tricolor::Mutator& m, Loop& loop) {
  const uint64_t n = g_config.entries;
  tricolor::BlockingRegion blocked(m);  // no managed heap access from here on
  absl::flat_hash_map<uint64_t, uint64_t> map;
  size_t buckets = map.bucket_count();
  map_bench::ThreadUsage usage = map_bench::thread_usage();
  const uint64_t faults_start = usage.faults;
  const bool probe = g_config.probe;
  const int64_t start = now_ns();
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t key = key_of(i);
    const int64_t t = now_ns();
    map[key] = i;
    loop.lat[i] = now_ns() - t;
    uint8_t f = 0;
    if (map.bucket_count() != buckets) {
      f |= kGrowthStarted;
      buckets = map.bucket_count();
      ++loop.rehashes;
    }
    loop.evacuated[i] = 0;
    if (probe) record_probe(loop, i, usage, f);
    loop.flags[i] = f;
  }
  loop.total_s = static_cast<double>(now_ns() - start) * 1e-9;
  loop.page_faults = map_bench::thread_usage().faults - faults_start;
  uint64_t bad = map.size() != n;
  for (uint64_t i = 0; i < n; ++i) {
    auto it = map.find(key_of(i));
    bad += it == map.end() || it->second != i;
  }
  if (bad != 0) check_failed("absl map wrong after the growth");
}
#endif

int run_child(const std::string& impl) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("map growth: %" PRIu64 " entries, no reserve, %" PRIu64
              " MiB live tree + churn thread, implementation %s (fresh process)\n",
              g_config.entries, g_config.live_mb, impl.c_str());
#if !TRICOLOR_BENCH_HAVE_ABSL
  if (impl == "absl") {
    std::fprintf(stderr, "bench_map_growth: absl was not found when the build was configured\n");
    return 2;
  }
#endif
  std::optional<tricolor::Runtime> runtime;
  try {
    runtime.emplace();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_map_growth: %s\n", error.what());
    return 2;
  }
  tricolor::Runtime& rt = *runtime;
  Metrics metrics;
  Loop loop;
  double timer_overhead = 0;
  uint64_t churn_trees = 0;
  tricolor::Stats before;
  tricolor::Stats after;
  tricolor::MapStats map_before;
  tricolor::MapStats map_after;
  map_bench::LiveTree live;
  {
    tricolor::MutatorScope m(rt);
    {
      const int gc_percent = rt.set_gc_percent(tricolor::kGcPercentOff);
      live.build(m, g_config.live_mb);
      rt.set_gc_percent(gc_percent);
      rt.collect();
      std::printf("live tree: %" PRIu64 " nodes, %.1f MiB, built in %.2f s\n", live.nodes, live.bytes / 1048576,
                  live.build_s);
    }
    const uint64_t n = g_config.entries;
    // Written now (value-initialised), so no page fault of these lands in the loop.
    loop.lat.assign(n, 0);
    loop.flags.assign(n, 0);
    loop.evacuated.assign(n, 0);
    if (g_config.probe) loop.probes.assign(n, Probe{});
    timer_overhead = static_cast<double>(map_bench::timer_overhead_ns());

    std::optional<tricolor::Local<FloorSlots>> floor_array;
    if (impl == "floor") floor_array.emplace(m, prepare_floor(m));

    map_bench::GarbageChurn churn(rt);
    churn.start();
    {
      tricolor::BlockingRegion blocked(m);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the churn is under way
    }
    before = rt.stats();
    map_before = tricolor::map_stats();
    if (impl == "deferred") {
      grow_tricolor(m, tricolor::MapGrowth::kDeferred, loop);
    } else if (impl == "inline") {
      grow_tricolor(m, tricolor::MapGrowth::kInline, loop);
    } else if (impl == "floor") {
      store_floor(m, **floor_array, loop);
#if TRICOLOR_BENCH_HAVE_ABSL
    } else if (impl == "absl") {
      grow_absl(m, loop);
#endif
    } else {
      std::fprintf(stderr, "bench_map_growth: unknown implementation '%s'\n", impl.c_str());
      return 2;
    }
    after = rt.stats();
    map_after = tricolor::map_stats();
    churn_trees = churn.stop(&m);
  }

  if (g_failed) return 1;
  print_slowest(loop, g_config.top);
  const size_t n = loop.lat.size();
  int64_t max_ns = 0;
  size_t max_at = 0;
  uint64_t over_50us = 0;
  for (size_t i = 0; i < n; ++i) {
    if (loop.lat[i] > max_ns) {
      max_ns = loop.lat[i];
      max_at = i;
    }
    over_50us += loop.lat[i] > 50000;
  }
  std::vector<int64_t> sorted = std::move(loop.lat);
  std::sort(sorted.begin(), sorted.end());
  const map_bench::Window pauses{after.pause_ns, before.pause_ns};
  const map_bench::Window ttsp{after.ttsp_ns, before.ttsp_ns};
  set_metric(metrics, "insert_p50_ns", map_bench::percentile_sorted(sorted, 0.50));
  set_metric(metrics, "insert_p99_ns", map_bench::percentile_sorted(sorted, 0.99));
  set_metric(metrics, "insert_p999_ns", map_bench::percentile_sorted(sorted, 0.999));
  set_metric(metrics, "insert_p9999_ns", map_bench::percentile_sorted(sorted, 0.9999));
  set_metric(metrics, "insert_max_ns", static_cast<double>(max_ns));
  set_metric(metrics, "insert_max_at_entries", static_cast<double>(max_at));
  set_metric(metrics, "inserts_over_50us", static_cast<double>(over_50us));
  set_metric(metrics, "total_s", loop.total_s);
  set_metric(metrics, "collections", static_cast<double>(after.collections - before.collections));
  set_metric(metrics, "pause_max_ns", static_cast<double>(pauses.max()));
  set_metric(metrics, "pause_p99_ns", static_cast<double>(pauses.percentile(0.99)));
  set_metric(metrics, "ttsp_max_ns", static_cast<double>(ttsp.max()));
  set_metric(metrics, "peak_rss_bytes", tricolor_bench::peak_rss_bytes());
  if (impl == "deferred" || impl == "inline") {
    const double workers = static_cast<double>(map_after.evacuated_by_workers - map_before.evacuated_by_workers);
    const double mutators = static_cast<double>(map_after.evacuated_by_mutators - map_before.evacuated_by_mutators);
    set_metric(metrics, "evacuated_by_workers", workers);
    set_metric(metrics, "evacuated_by_mutators", mutators);
    set_metric(metrics, "worker_evacuation_share", workers + mutators > 0 ? workers / (workers + mutators) : 0);
    set_metric(metrics, "growths", static_cast<double>(map_after.growths - map_before.growths));
    set_metric(metrics, "same_size_growths",
               static_cast<double>(map_after.same_size_growths - map_before.same_size_growths));
    set_metric(metrics, "overflow_buckets",
               static_cast<double>(map_after.overflow_buckets - map_before.overflow_buckets));
  } else if (impl == "absl") {
    set_metric(metrics, "rehashes", static_cast<double>(loop.rehashes));
  }
  set_metric(metrics, "assist_cpu_ns", static_cast<double>(after.assist_cpu_ns - before.assist_cpu_ns));
  set_metric(metrics, "timer_overhead_ns", timer_overhead);
  set_metric(metrics, "page_faults", static_cast<double>(loop.page_faults));
  set_metric(metrics, "churn_trees", static_cast<double>(churn_trees));
  set_metric(metrics, "live_mb", live.bytes / 1048576);
  std::printf("timer overhead (now + now): median %.0f ns; garbage: %" PRIu64 " trees of 1000 nodes, %.0f MB/s\n",
              timer_overhead, churn_trees,
              static_cast<double>(churn_trees) * 1000 * static_cast<double>(map_bench::tree_node_slot_bytes()) / 1e6 /
                  loop.total_s);
  std::string line = "result: impl=" + impl;
  for (const auto& [name, value] : metrics) line += " " + name + "=" + tricolor_bench::json_number(value);
  std::printf("%s\n", line.c_str());
  return 0;
}

// ----------------------------------------------------------------- driver --

// Runs this program with `args` + --impl IMPL, passing its output through,
// and parses its result line. Returns its exit status (0 with a result).
int run_self(const std::vector<std::string>& args, const std::string& impl, Metrics& metrics) {
  std::vector<std::string> all = args;
  all.emplace_back("--impl");
  all.push_back(impl);
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) return 1;
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(fds[1]);
  FILE* in = fdopen(fds[0], "r");
  char* buffer = nullptr;
  size_t capacity = 0;
  ssize_t length;
  bool got = false;
  while ((length = getline(&buffer, &capacity, in)) > 0) {
    std::string line(buffer, static_cast<size_t>(length));
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
    if (!line.starts_with("result: impl=" + impl + " ")) continue;
    std::istringstream words(line.substr(std::strlen("result: ")));
    std::string word;
    while (words >> word) {
      const size_t eq = word.find('=');
      if (eq == std::string::npos || word.substr(0, eq) == "impl") continue;
      set_metric(metrics, word.substr(0, eq), std::strtod(word.c_str() + eq + 1, nullptr));
    }
    got = true;
  }
  std::free(buffer);
  std::fclose(in);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status)) return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  if (WEXITSTATUS(status) != 0) return WEXITSTATUS(status);
  return got ? 0 : 1;
}

// One implementation's record entry from its runs (see the top of the file).
Metrics combine(const std::vector<Metrics>& runs) {
  if (runs.size() == 1) return runs[0];
  Metrics out;
  std::vector<size_t> by_max(runs.size());
  for (size_t r = 0; r < runs.size(); ++r) by_max[r] = r;
  std::sort(by_max.begin(), by_max.end(), [&](size_t a, size_t b) {
    return tricolor_bench::get_metric(runs[a], "insert_max_ns") < tricolor_bench::get_metric(runs[b], "insert_max_ns");
  });
  const Metrics& median_run = runs[by_max[(runs.size() - 1) / 2]];
  for (const auto& [name, ignored] : runs[0]) {
    if (name == "insert_max_at_entries") {
      set_metric(out, name, tricolor_bench::get_metric(median_run, name));
      continue;
    }
    std::vector<double> values;
    for (const Metrics& run : runs) values.push_back(tricolor_bench::get_metric(run, name));
    std::sort(values.begin(), values.end());
    set_metric(out, name, values[(values.size() - 1) / 2]);  // the lower median: a value some run had
  }
  for (const char* name : {"insert_max_ns", "insert_p9999_ns", "pause_max_ns"}) {
    double worst = 0;
    for (const Metrics& run : runs) worst = std::max(worst, tricolor_bench::get_metric(run, name));
    set_metric(out, std::string(name) + "_worst_run", worst);
  }
  set_metric(out, "runs", static_cast<double>(runs.size()));
  return out;
}

int drive(const std::vector<std::string>& forwarded, const std::string& out_dir, const std::string& command) {
  tricolor_bench::Record record{"map_growth", command, {}};
  std::map<std::string, std::vector<Metrics>> runs;
  std::vector<std::string> order;
  for (uint64_t r = 0; r < g_config.repeat; ++r) {
    double deferred_mean_ns = 0;  // this round's, for the floor's pace
    for (const std::string& impl : g_config.impls) {
      std::printf("== map_growth: %s (run %" PRIu64 " of %" PRIu64 ") ==\n", impl.c_str(), r + 1, g_config.repeat);
      std::fflush(stdout);
      Metrics metrics;
      if (impl == "go") {
        std::string why;
        bool missing = false;
        if (!map_bench::run_go_peer(g_config.go_peer,
                                    {"-mode", "growth", "-entries", std::to_string(g_config.entries), "-live-mb",
                                     std::to_string(g_config.live_mb)},
                                    metrics, why, missing)) {
          if (missing) {
            std::printf("go: skipped: %s\n", why.c_str());
            continue;
          }
          std::fprintf(stderr, "bench_map_growth: %s; no record written\n", why.c_str());
          return 1;
        }
      } else {
#if !TRICOLOR_BENCH_HAVE_ABSL
        if (impl == "absl") {
          std::printf("absl: skipped: libabsl-dev was not found when the build was configured\n");
          continue;
        }
#endif
        std::vector<std::string> args = forwarded;
        if (impl == "floor" && g_config.floor_step_ns < 0) {
          args.emplace_back("--floor-step-ns");
          args.push_back(std::to_string(static_cast<int64_t>(deferred_mean_ns)));
        }
        const int status = run_self(args, impl, metrics);
        if (status != 0) {
          std::fprintf(stderr, "bench_map_growth: %s FAILED (exit status %d); no record written\n", impl.c_str(),
                       status);
          return status;
        }
      }
      if (impl == "deferred") deferred_mean_ns = tricolor_bench::get_metric(metrics, "total_s") * 1e9 / static_cast<double>(g_config.entries);
      if (runs[impl].empty()) order.push_back(impl);
      runs[impl].push_back(std::move(metrics));
    }
  }
  for (const std::string& impl : order) record.implementation(impl) = combine(runs[impl]);
  std::string path;
  try {
    path = tricolor_bench::write_record(record, out_dir);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_map_growth: %s\n", error.what());
    return 1;
  }
  std::printf("\nmap_growth: %" PRIu64 " entries, %" PRIu64 " MiB live, %" PRIu64 " run(s) each\n",
              g_config.entries, g_config.live_mb, g_config.repeat);
  std::printf("%-9s %8s %8s %9s %10s %10s %10s %7s %8s %5s %10s %7s\n", "impl", "p50_ns", "p99_ns", "p99.9_ns",
              "p99.99_ns", "max_us", "max_at", ">50us", "total_s", "GCs", "pmax_us", "wk_shr");
  for (const auto& [impl, m] : record.implementations) {
    // A metric the implementation does not report prints as "-".
    auto cell = [&](const char* name, double scale, const char* format, int width) {
      char text[64];
      bool present = false;
      for (const auto& entry : m) present |= entry.first == name;
      if (present) std::snprintf(text, sizeof text, format, tricolor_bench::get_metric(m, name) * scale);
      else std::snprintf(text, sizeof text, "-");
      std::printf(" %*s", width, text);
    };
    std::printf("%-9s", impl.c_str());
    cell("insert_p50_ns", 1, "%.0f", 8);
    cell("insert_p99_ns", 1, "%.0f", 8);
    cell("insert_p999_ns", 1, "%.0f", 9);
    cell("insert_p9999_ns", 1, "%.0f", 10);
    cell("insert_max_ns", 1e-3, "%.1f", 10);
    cell("insert_max_at_entries", 1, "%.0f", 10);
    cell("inserts_over_50us", 1, "%.0f", 7);
    cell("total_s", 1, "%.2f", 8);
    cell("collections", 1, "%.0f", 5);
    cell("pause_max_ns", 1e-3, "%.1f", 10);
    cell("worker_evacuation_share", 1, "%.2f", 7);
    std::printf("\n");
  }
  std::printf("wrote %s\n", path.c_str());
  return 0;
}

void usage(FILE* to) {
  std::fprintf(to,
               "usage: bench_map_growth [--entries N] [--live-mb MIB] [--repeat R] [--impls LIST] [--top K]\n"
               "       [--probe] [--go-peer PATH] [--no-go] [--out DIR] [--impl IMPL]\n"
               "  --entries: keys inserted (default 10000000); --live-mb: live tree (default 64)\n"
               "  --repeat: runs of each implementation, in the order A B C A B C (default 1)\n"
               "  --impls: any of deferred,inline,absl,floor,go (default all); --top: slowest inserts printed (12)\n"
               "  --floor-step-ns: the floor's pace (default: deferred's mean insert time in the round)\n"
               "  --breakdown-us: the inserts broken down by what happened in them are those over this (50)\n"
               "  --probe: page faults and context switches of each insert (a getrusage call after each one)\n"
               "  --go-peer: the Go peer binary (default $MAPBENCH_GO, else mapbench beside this program);\n"
               "    --no-go: leave it out\n"
               "  --impl IMPL: child mode, run one implementation and print its result line\n");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = tricolor_bench::command_line(argc, argv);
  const std::string out_dir = tricolor_bench::take_out_dir(argc, argv);
  Config& c = g_config;
  std::vector<std::string> forwarded = {argv[0]};  // the flags the children need
  for (int i = 1; i < argc; ++i) {
    std::string value;
    const int at = i;
    auto bad = [&](const char* flag, const char* expects) {
      std::fprintf(stderr, "bench_map_growth: %s expects %s, got '%s'\n", flag, expects, value.c_str());
      return 2;
    };
    bool forward = true;
    if (map_bench::take_flag("--entries", argc, argv, i, value)) {
      if (!map_bench::parse_u64(value, 1, uint64_t{1} << 31, c.entries)) return bad("--entries", "an integer >= 1");
    } else if (map_bench::take_flag("--live-mb", argc, argv, i, value)) {
      if (!map_bench::parse_u64(value, 0, 1 << 20, c.live_mb)) return bad("--live-mb", "an integer in 0..1048576");
    } else if (map_bench::take_flag("--repeat", argc, argv, i, value)) {
      if (!map_bench::parse_u64(value, 1, 100, c.repeat)) return bad("--repeat", "an integer in 1..100");
      forward = false;
    } else if (map_bench::take_flag("--top", argc, argv, i, value)) {
      if (!map_bench::parse_u64(value, 0, 100000, c.top)) return bad("--top", "an integer");
    } else if (map_bench::take_flag("--breakdown-us", argc, argv, i, value)) {
      if (!map_bench::parse_u64(value, 0, 1 << 30, c.breakdown_us)) return bad("--breakdown-us", "an integer");
    } else if (map_bench::take_flag("--floor-step-ns", argc, argv, i, value)) {
      uint64_t step = 0;
      if (!map_bench::parse_u64(value, 0, 1'000'000'000, step)) return bad("--floor-step-ns", "an integer");
      c.floor_step_ns = static_cast<int64_t>(step);
    } else if (std::string_view(argv[i]) == "--probe") {
      c.probe = true;
    } else if (map_bench::take_flag("--impls", argc, argv, i, value)) {
      c.impls = map_bench::split_list(value);
      for (const auto& impl : c.impls)
        if (std::find(std::begin(kKnown), std::end(kKnown), impl) == std::end(kKnown))
          return bad("--impls", "names among deferred,inline,absl,floor,go");
      forward = false;
    } else if (map_bench::take_flag("--go-peer", argc, argv, i, value)) {
      c.go_peer = value;
      forward = false;
    } else if (std::string_view(argv[i]) == "--no-go") {
      std::erase(c.impls, std::string("go"));
      forward = false;
    } else if (map_bench::take_flag("--impl", argc, argv, i, value)) {
      c.impl = value;
      forward = false;
    } else if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "bench_map_growth: unknown argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
    if (forward)
      for (int k = at; k <= i; ++k) forwarded.emplace_back(argv[k]);
  }
  if (!c.impl.empty()) return run_child(c.impl);
  if (c.go_peer.empty()) c.go_peer = map_bench::default_go_peer();
  return drive(forwarded, out_dir, command);
}
