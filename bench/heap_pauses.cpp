// heap_pauses.cpp — mutator pauses on a large, pointer-rich live heap:
// the concurrent collector beside its stop-the-world mode, same program.
//
//   1. Build the live heap (collection off while building: nothing built is
//      garbage, so there is nothing to collect yet):
//        - a graph of N Nodes (four managed pointers and a tag, a 40-byte
//          slot), each owning one Leaf (a managed pointer, a stamp and its
//          check, a 24-byte slot; both typed spans without headers), N =
//          --live-mb MiB / 64 bytes: 8.4 M nodes and as many leaves
//          (16.8 M objects) at the default 512 MiB.
//          The nodes form complete binary trees of 65535 nodes (left/right),
//          held by a small managed array (the forest) under a Persistent root;
//          every node also has a `cross` edge to a random node of its own or
//          the previous tree, and its leaf's `ref` points at another such node;
//        - one large object of --large-mb MiB (default 64): a managed array
//          of Member<Node> (make<NodeArray>(m, AdditionalBytes{n * 8}, n),
//          ChunkTraceable, so markers trace it in bounded chunks as an
//          embedder's big array should be), each slot pointing at a random
//          node, under a Persistent root.
//      Then GOGC is restored (the environment's, default 100) and one
//      explicit collection sets the pacer's goal from the real live heap.
//   2. --threads mutator threads (default 2), each with its own MutatorScope,
//      run operations until --seconds (default 10) have passed and at least
//      --min-cycles collections (default 20) have ended since the baseline
//      collection; if the cycles are not reached by then, they keep going up
//      to 4 × --seconds and the count is reported as it is. One operation:
//        - read a random slot of the large array: a node P; read another: Q;
//          check P's tag, its current leaf's check and Q's tag (a reclaimed
//          and reused object fails them);
//        - allocate --garbage short-lived objects (default 16; a 24-byte
//          list cell each, chained under a Local, dropped at the end of the
//          operation);
//        - P->leaf = a fresh Leaf pointing at Q (P's previous leaf dies: old
//          garbage, freed in the next cycle);
//        - P->cross = Q;
//        - a random slot of the large array = Q->left, or Q->cross.
//      The left/right edges are never rewritten, so every node stays live
//      and the live heap is exactly N nodes + N leaves + the two arrays for
//      the whole run, while the mutators allocate 32 + 24 × --garbage bytes
//      per operation (416 by default), which drives the collections. Each
//      mutator polls safepoint() every --safepoint-every operations (default
//      100; an operation is bounded work, 1–3 µs on a 2-core EPYC VM, so
//      about 0.1–0.3 ms between polls): that bounds the benchmark's own share
//      of time-to-safepoint (allocation slow paths poll too; an assist that
//      traces the large array in one piece does not). The thread that built
//      the heap waits in a BlockingRegion.
//   3. Outside the timed region: walk every tree and check every node (tag,
//      id range, count, sum of ids), its leaf and its cross edge, and every
//      slot of the large array. A failed check fails the implementation.
//
// Implementations (--impl), each in its own child process (peak RSS is per
// implementation): `concurrent` and `stw`, the same program with
// TRICOLOR_MODE=concurrent or TRICOLOR_MODE=stw set in the child's
// environment before its Runtime starts. GOGC, GOMEMLIMIT, GODEBUG and
// TRICOLOR_MIN_HEAP reach both unchanged.
//
// Metrics (besides wall_s: the mutation phase's wall time, ops_per_s:
// operations per second summed over the threads, peak_rss_bytes): the
// collector metrics cover the mutation phase only — the difference between
// the stats after the run and the snapshot taken after the baseline
// collection (percentiles from the difference of the histograms' buckets;
// a maximum is exact when it was set during the phase, else the upper edge
// of its bucket): collections (cycles ended by the time the stats are read,
// after the heap check; the line printed at the stop may say one fewer),
// pauses, pause_p50/p99/p999/max_ns (every
// pause a mutator experienced: global pauses and per-thread handshakes),
// pause_total_ns, global_pauses, global_pause_p99/max_ns, ttsp_p99/max_ns,
// mark_cpu_ns (assist + background), assist_cpu_ns, background_cpu_ns,
// allocated_bytes; and live_mb (the live heap built: graph + arrays, in
// slot bytes), large_mb, objects, threads, build_s, checks_s.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <tricolor/tricolor.h>
#include <vector>

#include "harness.h"
#include "histogram_window.h"
#include "record.h"

namespace {

using tricolor::Member;
using tricolor_bench::Measured;
using tricolor_bench::Metrics;
using tricolor_bench::set_metric;
using tricolor_bench::Stopwatch;

// ------------------------------------------------------------------ flags --

struct Config {
  long live_mb = 512;
  long large_mb = 64;
  long threads = 2;
  double seconds = 10;
  long min_cycles = 20;
  long garbage = 16;
  long safepoint_every = 100;
};
Config g_config;

constexpr uint64_t kSeed = 0x5eed'1234'abcdULL;
constexpr long kTreeNodes = 65535;  // a complete binary tree of 16 levels
constexpr double kCapFactor = 4;    // the run stops at kCapFactor × --seconds whatever the cycles

bool parse_long(const std::string& text, long lo, long hi, long& out) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < lo || value > hi) return false;
  out = value;
  return true;
}

tricolor_bench::Flag long_flag(const char* name, const char* help, long lo, long hi, long& target) {
  return {name, "N", help, "an integer in " + std::to_string(lo) + ".." + std::to_string(hi),
          [lo, hi, &target](const std::string& value) { return parse_long(value, lo, hi, target); }};
}

// ------------------------------------------------------------------ types --

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct Leaf;

// A graph node: tree edges (never rewritten after the build), a cross edge
// and the node's current leaf (both rewritten by the mutators), and a tag
// that encodes its id with a check.
struct Node {
  Member<Node> left;
  Member<Node> right;
  Member<Node> cross;
  Member<Leaf> leaf;
  uint64_t tag;

  static constexpr int kCheckBits = 24;
  static uint64_t tag_of(uint64_t id) { return id << kCheckBits | (mix(id) & ((1u << kCheckBits) - 1)); }
  explicit Node(uint64_t id) : tag(tag_of(id)) {}
  uint64_t id() const { return tag >> kCheckBits; }
  bool intact() const { return tag == tag_of(id()); }
  void trace(tricolor::Visitor& v) const {
    v.visit(left);
    v.visit(right);
    v.visit(cross);
    v.visit(leaf);
  }
};

struct Leaf {
  Member<Node> ref;
  uint64_t stamp;
  uint64_t check;
  Leaf(Node* r, uint64_t s) : ref(r), stamp(s), check(mix(s)) {}
  bool intact() const { return check == mix(stamp); }
  void trace(tricolor::Visitor& v) const { v.visit(ref); }
};

// A short-lived list cell.
struct Cell {
  Member<Cell> next;
  uint64_t value;
  Cell(Cell* n, uint64_t v) : next(n), value(v) {}
  void trace(tricolor::Visitor& v) const { v.visit(next); }
};

// An array of Member<Node> in the object's additional bytes.
struct NodeArray {
  uint64_t length;
  explicit NodeArray(uint64_t n) : length(n) {
    for (uint64_t i = 0; i < n; ++i) new (&slots()[i]) Member<Node>();
  }
  Member<Node>* slots() const { return reinterpret_cast<Member<Node>*>(const_cast<NodeArray*>(this) + 1); }
  Member<Node>& operator[](uint64_t i) const { return slots()[i]; }
  void trace(tricolor::Visitor& v) const { v.visit_range(slots(), length); }
  size_t trace_slot_count() const { return length; }
  void trace_slots(tricolor::Visitor& v, size_t first, size_t end) const { v.visit_range(slots() + first, end - first); }
};


// xorshift64*, with Lemire's multiply-shift for a bounded draw.
struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(mix(seed) | 1) {}
  uint64_t next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dULL;
  }
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<__uint128_t>(next()) * n) >> 64); }
};

void check(bool ok, const char* what) {
  if (!ok) tricolor_bench::check_failed("%s", what);
}

// ------------------------------------------------------------------- heap --

// What the run built and measured beyond Measured, for the metrics callbacks.
struct Run {
  uint64_t nodes = 0;
  uint64_t trees = 0;
  uint64_t large_slots = 0;
  double live_bytes = 0;
  double large_bytes = 0;
  double build_s = 0;
  double checks_s = 0;
  tricolor::Stats baseline;  // after the baseline collection
};
Run g_run;

struct Heap {
  tricolor::Persistent<NodeArray> forest;
  tricolor::Persistent<NodeArray> large;
};

void build(tricolor::Mutator& m, Heap& heap) {
  const uint64_t node_slot = tricolor::gc::kSlotBytesOf<Node>;
  const uint64_t leaf_slot = tricolor::gc::kSlotBytesOf<Leaf>;
  const uint64_t n = std::max<uint64_t>(1, (uint64_t(g_config.live_mb) << 20) / (node_slot + leaf_slot));
  const uint64_t trees = (n + kTreeNodes - 1) / kTreeNodes;
  const uint64_t slots = std::max<uint64_t>(1, (uint64_t(g_config.large_mb) << 20) / sizeof(Member<Node>));
  g_run.nodes = n;
  g_run.trees = trees;
  g_run.large_slots = slots;

  heap.large = tricolor::make<NodeArray>(m, tricolor::AdditionalBytes{slots * sizeof(Member<Node>)}, slots);
  heap.forest = tricolor::make<NodeArray>(m, tricolor::AdditionalBytes{trees * sizeof(Member<Node>)}, trees);
  const size_t large_bytes = tricolor::usable_size(heap.large.get()) + tricolor::gc::kHeaderBytes;
  const size_t forest_bytes = tricolor::usable_size(heap.forest.get()) + tricolor::gc::kHeaderBytes;
  g_run.large_bytes = static_cast<double>(large_bytes);
  g_run.live_bytes = static_cast<double>(n * (node_slot + leaf_slot) + large_bytes + forest_bytes);

  NodeArray& forest = *heap.forest.get();
  NodeArray& large = *heap.large.get();
  Rng rng(kSeed);
  // Raw node pointers are safe off-heap here: every node is reachable from
  // the forest from the moment it is made, and tricolor never moves objects.
  std::vector<Node*> current;
  std::vector<Node*> previous;
  current.reserve(kTreeNodes);
  previous.reserve(kTreeNodes);
  uint64_t id = 0;
  uint64_t stamp = 0;
  for (uint64_t t = 0; t < trees; ++t) {
    const uint64_t count = std::min<uint64_t>(kTreeNodes, n - t * kTreeNodes);
    current.clear();
    for (uint64_t i = 0; i < count; ++i) {
      Node* node = tricolor::make<Node>(m, id++);
      if (i == 0) {
        forest[t] = node;
      } else if (i % 2 == 1) {
        current[(i - 1) / 2]->left = node;
      } else {
        current[(i - 1) / 2]->right = node;
      }
      current.push_back(node);
    }
    auto pick = [&]() -> Node* {
      if (!previous.empty() && rng.below(2) == 0) return previous[rng.below(previous.size())];
      return current[rng.below(current.size())];
    };
    for (Node* node : current) {
      node->cross = pick();
      node->leaf = tricolor::make<Leaf>(m, pick(), stamp++);
    }
    for (uint64_t s = t * slots / trees; s < (t + 1) * slots / trees; ++s) large[s] = pick();
    std::swap(current, previous);
    m.safepoint();
  }
}

// Step 3: every node, leaf, cross edge and large-array slot.
void check_heap(tricolor::Mutator& m, const Heap& heap) {
  const NodeArray& forest = *heap.forest.get();
  const NodeArray& large = *heap.large.get();
  const uint64_t n = g_run.nodes;
  uint64_t count = 0;
  uint64_t id_sum = 0;
  bool nodes_ok = true;
  bool leaves_ok = true;
  bool cross_ok = true;
  std::vector<const Node*> stack;
  for (uint64_t t = 0; t < forest.length; ++t) {
    stack.push_back(forest[t].get());
    while (!stack.empty()) {
      const Node* node = stack.back();
      stack.pop_back();
      if (node == nullptr) continue;
      if (!node->intact() || node->id() >= n) {
        nodes_ok = false;
        continue;
      }
      ++count;
      id_sum += node->id();
      const Leaf* leaf = node->leaf.get();
      leaves_ok &= leaf != nullptr && leaf->intact() && leaf->ref.get() != nullptr && leaf->ref->intact();
      cross_ok &= node->cross.get() != nullptr && node->cross->intact();
      stack.push_back(node->right.get());
      stack.push_back(node->left.get());
    }
    if (t % 16 == 0) m.safepoint();
  }
  check(nodes_ok, "every tree node intact (tag and id range)");
  check(count == n, "tree node count");
  check(id_sum == n * (n - 1) / 2, "sum of tree node ids");
  check(leaves_ok, "every node's leaf intact, with an intact ref");
  check(cross_ok, "every node's cross edge intact");
  bool slots_ok = true;
  for (uint64_t s = 0; s < large.length; ++s) {
    const Node* node = large[s].get();
    slots_ok &= node != nullptr && node->intact() && node->id() < n;
  }
  check(slots_ok, "every large-array slot points at an intact node");
}

// ---------------------------------------------------------------- mutators --

struct ThreadResult {
  uint64_t operations = 0;
  uint64_t failures = 0;
};

void mutate(tricolor::Runtime& rt, const NodeArray& large, int thread, const std::atomic<bool>& stop,
            ThreadResult& result) {
  tricolor::MutatorScope m(rt);
  Rng rng(kSeed + 1 + static_cast<uint64_t>(thread));
  const uint64_t slots = large.length;
  const long garbage = g_config.garbage;
  const long batch = g_config.safepoint_every;
  uint64_t stamp = uint64_t(thread + 1) << 48;
  uint64_t operations = 0;
  uint64_t failures = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    for (long k = 0; k < batch; ++k) {
      // Nodes never die (tree edges are never rewritten): raw pointers to
      // them stay valid across allocations.
      Node* p = large[rng.below(slots)].get();
      Node* q = large[rng.below(slots)].get();
      const Leaf* old_leaf = p->leaf.get();
      failures += !p->intact() + !q->intact() + !old_leaf->intact();
      {
        tricolor::Local<Cell> list(m);
        for (long g = 0; g < garbage; ++g) list = tricolor::make<Cell>(m, list.get(), stamp);
      }
      p->leaf = tricolor::make<Leaf>(m, q, stamp++);
      p->cross = q;
      Node* next = (rng.next() & 1) != 0 ? q->left.get() : nullptr;
      large[rng.below(slots)] = next != nullptr ? next : q->cross.get();
    }
    operations += static_cast<uint64_t>(batch);
    m.safepoint();
  }
  result.operations = operations;
  result.failures = failures;
}

Measured run(tricolor::Runtime& rt, tricolor::Mutator& m) {
  Heap heap;
  {
    Stopwatch timer;
    const int gc_percent = rt.set_gc_percent(tricolor::kGcPercentOff);
    build(m, heap);
    rt.set_gc_percent(gc_percent);
    g_run.build_s = timer.seconds();
  }
  std::printf("built %" PRIu64 " nodes in %" PRIu64 " trees + %" PRIu64 " leaves + a %" PRIu64
              "-slot array (%.1f MiB): %.1f MiB live in %.2f s\n",
              g_run.nodes, g_run.trees, g_run.nodes, g_run.large_slots, g_run.large_bytes / 1048576,
              g_run.live_bytes / 1048576, g_run.build_s);
  {
    Stopwatch timer;
    rt.collect();
    g_run.baseline = rt.stats();
    std::printf("baseline collection: %.1f ms, %.1f MiB marked live, heap goal %.1f MiB\n", timer.milliseconds(),
                static_cast<double>(g_run.baseline.live_bytes) / 1048576,
                static_cast<double>(g_run.baseline.heap_goal_bytes) / 1048576);
  }

  const int threads = static_cast<int>(g_config.threads);
  std::atomic<bool> stop{false};
  std::vector<ThreadResult> results(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  Stopwatch timer;
  uint64_t cycles = 0;
  {
    // This thread holds no managed pointers while it waits (heap's roots are
    // Persistent): the collector does not wait for it.
    tricolor::BlockingRegion blocked(m);
    const NodeArray& large = *heap.large.get();
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back(mutate, std::ref(rt), std::cref(large), t, std::cref(stop),
                           std::ref(results[static_cast<size_t>(t)]));
    }
    const double cap = kCapFactor * g_config.seconds;
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      cycles = rt.stats().collections - g_run.baseline.collections;
      const double elapsed = timer.seconds();
      if ((elapsed >= g_config.seconds && cycles >= static_cast<uint64_t>(g_config.min_cycles)) || elapsed >= cap)
        break;
    }
    stop.store(true, std::memory_order_relaxed);
    for (std::thread& worker : workers) worker.join();
  }
  const double seconds = timer.seconds();
  uint64_t operations = 0;
  uint64_t failures = 0;
  for (const ThreadResult& r : results) {
    operations += r.operations;
    failures += r.failures;
  }
  std::printf("%d threads: %" PRIu64 " operations in %.2f s, %" PRIu64 " collections when stopped%s\n", threads,
              operations, seconds, cycles,
              cycles < static_cast<uint64_t>(g_config.min_cycles) ? " (FEWER than --min-cycles: stopped at the cap)"
                                                                  : "");
  if (failures != 0)
    tricolor_bench::check_failed("%" PRIu64 " objects read by the mutators were not intact", failures);

  Stopwatch check_timer;
  check_heap(m, heap);
  g_run.checks_s = check_timer.seconds();
  std::printf("heap checked in %.2f s\n", g_run.checks_s);
  return {seconds, static_cast<long>(operations)};
}

// ---------------------------------------------------------------- metrics --

using tricolor_bench::Window;  // bench/histogram_window.h

void add_collector_metrics(Metrics& metrics, const tricolor::gc::GcStats& after) {
  const tricolor::gc::GcStats& before = g_run.baseline;
  auto set = [&](const char* name, uint64_t value) { set_metric(metrics, name, static_cast<double>(value)); };
  const Window pause{after.pause_ns, before.pause_ns};
  const Window global{after.global_pause_ns, before.global_pause_ns};
  const Window ttsp{after.ttsp_ns, before.ttsp_ns};
  set("collections", after.collections - before.collections);
  set("pauses", pause.count());
  set("pause_p50_ns", pause.percentile(0.50));
  set("pause_p99_ns", pause.percentile(0.99));
  set("pause_p999_ns", pause.percentile(0.999));
  set("pause_max_ns", pause.max());
  set("pause_total_ns", after.total_pause_ns - before.total_pause_ns);
  set("global_pauses", global.count());
  set("global_pause_p99_ns", global.percentile(0.99));
  set("global_pause_max_ns", global.max());
  set("ttsp_p99_ns", ttsp.percentile(0.99));
  set("ttsp_max_ns", ttsp.max());
  const uint64_t assist = after.assist_cpu_ns - before.assist_cpu_ns;
  const uint64_t background = after.background_cpu_ns - before.background_cpu_ns;
  set("mark_cpu_ns", assist + background);
  set("assist_cpu_ns", assist);
  set("background_cpu_ns", background);
  set("allocated_bytes", after.allocated_total_bytes - before.allocated_total_bytes);
}

void add_metrics(Metrics& metrics, const Measured&) {
  set_metric(metrics, "live_mb", g_run.live_bytes / 1048576);
  set_metric(metrics, "large_mb", g_run.large_bytes / 1048576);
  set_metric(metrics, "objects", static_cast<double>(2 * g_run.nodes + 2));
  set_metric(metrics, "threads", static_cast<double>(g_config.threads));
  set_metric(metrics, "build_s", g_run.build_s);
  set_metric(metrics, "checks_s", g_run.checks_s);
}

}  // namespace

int main(int argc, char** argv) {
  Config& c = g_config;
  auto implementation = [](const char* name, const char* mode) {
    return tricolor_bench::Implementation{
        .name = name,
        .with_collector = {},
        .without_collector = {},
        .with_runtime = run,
        .environment = {{"TRICOLOR_MODE", mode}},
    };
  };
  tricolor_bench::BenchProgram program{
      .name = "heap_pauses",
      .flags =
          {
              long_flag("--live-mb", "MiB of live graph: nodes and their leaves (default 512)", 1, 1 << 20,
                        c.live_mb),
              long_flag("--large-mb", "MiB of the large pointer array (default 64)", 1, 1 << 20, c.large_mb),
              long_flag("--threads", "mutator threads (default 2)", 1, 256, c.threads),
              {"--seconds", "S", "minimum duration of the mutation phase (default 10)", "a number of seconds > 0",
               [&c](const std::string& value) {
                 char* end = nullptr;
                 const double s = std::strtod(value.c_str(), &end);
                 if (value.empty() || *end != '\0' || !(s > 0 && s < 1e6)) return false;
                 c.seconds = s;
                 return true;
               }},
              long_flag("--min-cycles", "collections the mutation phase must reach, within 4x --seconds (default 20)",
                        0, 1 << 30, c.min_cycles),
              long_flag("--garbage", "short-lived 24-byte objects per operation (default 16)", 0, 1 << 20, c.garbage),
              long_flag("--safepoint-every", "operations between safepoint polls (default 100)", 1, 1 << 30,
                        c.safepoint_every),
          },
      .implementations = {implementation("concurrent", "concurrent"), implementation("stw", "stw")},
      .title =
          [&c](const std::string& impl) {
            char buffer[256];
            std::snprintf(buffer, sizeof buffer,
                          "heap pauses: %ld MiB graph + %ld MiB array, %ld threads, %g s (>= %ld cycles), "
                          "%ld garbage/op, safepoint every %ld ops, implementation %s",
                          c.live_mb, c.large_mb, c.threads, c.seconds, c.min_cycles, c.garbage, c.safepoint_every,
                          impl.c_str());
            return std::string(buffer);
          },
      .add_metrics = add_metrics,
      .add_collector_metrics = add_collector_metrics,
  };
  return tricolor_bench::bench_main(argc, argv, program);
}
