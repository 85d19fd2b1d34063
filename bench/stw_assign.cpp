// stw_assign.cpp — the headline benchmark: how long mutators are stopped, and
// how long one map assignment can take, while threads assign heavily into
// growing maps with the collector running. Its Go peer
// (bench/peers/go/stwassign) runs the identical workload; this program is
// both the driver and the tricolor child.
//
// The workload (the contract with the Go peer):
//   - a live heap of L MiB of 32-byte nodes (n = L·2^20 / 32 nodes, the
//     same node count in both languages): a complete binary tree in
//     breadth-first order, plus one cross pointer per node, node i → node
//     (i·2654435761 + 12345) mod n, so that marking takes real time;
//   - T mutator threads; thread t owns a per-thread sentinel and, each
//     round, a fresh map with no size hint (it grows repeatedly, also while
//     the collector marks): insert keys 0..E−1, overwrite all E, erase every
//     second key. A value is a fresh 16-byte object with one managed pointer
//     (to the sentinel), so the collector traces every value. `--shared`:
//     one SyncMap for all threads (the Go peer: one map behind a mutex),
//     thread t owning keys k·T + t, rounds synchronised by a barrier;
//   - rounds until D seconds have passed (a started round completes);
//   - every assignment (value allocation + insert or overwrite) and every
//     erase is timed on its own: no coordinated omission, no spike escapes.
// Invariant of the record: assignments = 2·E·rounds and erases = ⌈E/2⌉·rounds
// (T·... for --shared), every one of them in the histograms; the child
// checks this, and the pause count against the collector's own statistics,
// and fails (exit 1, no result line) if they do not reconcile.
//
// Driver: bench_stw_assign [workload flags] [--impls a,b] [--repeat R]
//         [--go PATH | --no-go] [--trace] [--out DIR]
//   runs each implementation in its own process (peak RSS per run), R
//   rounds alternating them (A B A B), and writes OUT/stw_assign.json
//   (medians under "implementations", every run under "runs") and each
//   run's distributions to OUT/stw_assign/IMPL-rN.json for scripts/plot.
// Child:  bench_stw_assign [workload flags] --impl IMPL [--histograms FILE]
#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <sys/mman.h>
#include <tricolor/tricolor.h>
#include <vector>

#include "../gc/collector.h"
#include "harness.h"
#include "map_workload.h"
#include "record.h"

namespace {

using map_bench::now_ns;
using map_bench::take_flag;
using tricolor::Histogram;
using tricolor_bench::Metrics;
using tricolor_bench::set_metric;

// ------------------------------------------------------------ the workload --

struct Workload {
  uint64_t threads = 2;
  uint64_t entries = 4'000'000;
  uint64_t live_mb = 256;
  double seconds = 10;
  bool shared = false;

  // The flags a child (ours or the Go peer) is given.
  std::vector<std::string> flags() const {
    std::vector<std::string> out = {"--threads", std::to_string(threads), "--entries", std::to_string(entries),
                                    "--live-mb", std::to_string(live_mb),  "--seconds", tricolor_bench::json_number(seconds)};
    if (shared) out.emplace_back("--shared");
    return out;
  }
  uint64_t erases_per_round() const { return (entries + 1) / 2; }
};

// Parses a workload flag at argv[i]; true if it was one. Exits 2 on a bad value.
bool take_workload_flag(Workload& w, int argc, char** argv, int& i) {
  std::string value;
  auto bad = [&](const char* flag, const char* expects) {
    std::fprintf(stderr, "bench_stw_assign: %s expects %s, got '%s'\n", flag, expects, value.c_str());
    std::exit(2);
  };
  if (take_flag("--threads", argc, argv, i, value)) {
    if (!map_bench::parse_u64(value, 1, 256, w.threads)) bad("--threads", "an integer in 1..256");
  } else if (take_flag("--entries", argc, argv, i, value)) {
    if (!map_bench::parse_u64(value, 2, uint64_t{1} << 31, w.entries)) bad("--entries", "an integer in 2..2^31");
  } else if (take_flag("--live-mb", argc, argv, i, value)) {
    if (!map_bench::parse_u64(value, 0, 1 << 20, w.live_mb)) bad("--live-mb", "an integer in 0..1048576");
  } else if (take_flag("--seconds", argc, argv, i, value)) {
    if (!map_bench::parse_seconds(value, w.seconds)) bad("--seconds", "a number of seconds > 0");
  } else if (std::string_view(argv[i]) == "--shared") {
    w.shared = true;
  } else {
    return false;
  }
  return true;
}

// The live heap's node: 32 bytes of payload, three managed pointers (the Go
// peer's `node`).
struct Node {
  tricolor::Member<Node> left;
  tricolor::Member<Node> right;
  tricolor::Member<Node> cross;
  uint64_t id;
  explicit Node(uint64_t i) : id(i) {}
  void trace(tricolor::Visitor& v) const {
    v.visit(left);
    v.visit(right);
    v.visit(cross);
  }
};

struct Sentinel {
  static constexpr bool kHasNoPointers = true;
  int64_t id;
  int64_t pad = 0;
  explicit Sentinel(int64_t i) : id(i) {}
};

// A map value: 16 bytes, one managed pointer.
struct Value {
  tricolor::Member<Sentinel> sentinel;
  int64_t n;
  Value(Sentinel* s, int64_t v) : sentinel(s), n(v) {}
  void trace(tricolor::Visitor& v) const { v.visit(sentinel); }
};

using OwnMap = tricolor::Map<uint64_t, Value*>;
using SharedMap = tricolor::SyncMap<uint64_t, Value*>;

uint64_t node_count(uint64_t live_mb) { return (live_mb << 20) / 32; }
uint64_t cross_of(uint64_t i, uint64_t n) { return (i * 2654435761ULL + 12345) % n; }

// Builds the live tree under `root`. Each node is linked into its parent as
// soon as it is made, so it is reachable from the root at every safepoint;
// `by_id` (raw pointers, not roots) only serves the cross pointers.
void build_live_tree(tricolor::Mutator& m, tricolor::Persistent<Node>& root, uint64_t n) {
  if (n == 0) return;
  std::vector<Node*> by_id(n);
  root = tricolor::make<Node>(m, 0);
  by_id[0] = root.get();
  for (uint64_t i = 1; i < n; ++i) {
    Node* node = tricolor::make<Node>(m, i);
    Node* parent = by_id[(i - 1) / 2];
    if (i % 2 == 1) parent->left = node;
    else parent->right = node;
    by_id[i] = node;
  }
  for (uint64_t i = 0; i < n; ++i) by_id[i]->cross = by_id[cross_of(i, n)];
}

// Nodes reachable from `root` through left/right, and whether every cross
// pointer is where the contract puts it.
bool check_live_tree(const Node* root, uint64_t n) {
  if (n == 0) return root == nullptr;
  std::vector<const Node*> stack = {root};
  uint64_t seen = 0;
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    ++seen;
    if (node->cross.get() == nullptr || node->cross->id != cross_of(node->id, n)) return false;
    if (node->left) stack.push_back(node->left.get());
    if (node->right) stack.push_back(node->right.get());
  }
  return seen == n;
}

// ------------------------------------------------------ per-thread record --

const char* phase_name(tricolor::gc::Phase phase) {
  switch (phase) {
    case tricolor::gc::Phase::kOff: return "off";
    case tricolor::gc::Phase::kMark: return "mark";
    case tricolor::gc::Phase::kSweep: return "sweep";
  }
  return "?";
}

struct Spike {
  uint64_t ns = 0;
  uint64_t map_size = 0;
  const char* phase = "";
  uint64_t cycles = 0;
  uint64_t thread = 0;
};

struct ThreadRecord {
  static constexpr size_t kSpikes = 8;
  Histogram assign;
  Histogram erase;
  uint64_t assignments = 0;
  uint64_t erases = 0;
  uint64_t rounds = 0;
  std::vector<Spike> spikes;  // the largest assignments, at most kSpikes
  std::string failure;

  bool is_spike(uint64_t ns) const { return spikes.size() < kSpikes || ns > spikes.back().ns; }
  // Called after the timing, only for a would-be spike (rare once warm).
  void add_spike(Spike spike) {
    if (spikes.size() == kSpikes) spikes.pop_back();
    spikes.insert(std::upper_bound(spikes.begin(), spikes.end(), spike,
                                   [](const Spike& a, const Spike& b) { return a.ns > b.ns; }),
                  spike);
  }
};

// One timed assignment: a fresh value, then the insert or overwrite.
template <class Assign>
void timed_assign(ThreadRecord& r, tricolor::Runtime& rt, uint64_t thread, const Assign& assign,
                  uint64_t map_size_before) {
  const int64_t start = now_ns();
  assign();
  const auto ns = static_cast<uint64_t>(now_ns() - start);
  r.assign.record(ns);
  ++r.assignments;
  if (r.is_spike(ns)) [[unlikely]] {
    const char* phase = phase_name(tricolor::gc::Collector::current()->phase());
    r.add_spike(Spike{ns, map_size_before, phase, rt.stats().collections, thread});
  }
}

template <class Erase>
void timed_erase(ThreadRecord& r, const Erase& erase) {
  const int64_t start = now_ns();
  erase();
  r.erase.record(static_cast<uint64_t>(now_ns() - start));
  ++r.erases;
}

// Rounds of one thread on its own map, until `deadline_ns`.
void own_map_rounds(tricolor::Runtime& rt, const Workload& w, tricolor::MapOptions options, uint64_t t,
                    int64_t deadline_ns, ThreadRecord& r) {
  tricolor::MutatorScope m(rt);
  tricolor::Local<Sentinel> sentinel(m, tricolor::make<Sentinel>(m, static_cast<int64_t>(t)));
  tricolor::Local<OwnMap> map(m);
  const uint64_t e = w.entries;
  do {
    map = tricolor::make<OwnMap>(m, options);
    // Each loop polls its safepoint once per step, untimed, as an
    // interpreter polls at its back-edges (an erase never allocates, so
    // without the poll a loop of them would hold every handshake back).
    for (uint64_t k = 0; k < e; ++k) {
      timed_assign(r, rt, t, [&] { map->insert_or_assign(m, k, tricolor::make<Value>(m, sentinel.get(), k)); },
                   map->size());
      m.safepoint();
    }
    for (uint64_t k = 0; k < e; ++k) {
      timed_assign(r, rt, t, [&] { map->insert_or_assign(m, k, tricolor::make<Value>(m, sentinel.get(), k + 1)); },
                   map->size());
      m.safepoint();
    }
    for (uint64_t k = 0; k < e; k += 2) {
      timed_erase(r, [&] { map->erase(m, k); });
      m.safepoint();
    }
    if (map->size() != e - w.erases_per_round()) {
      r.failure = "map size " + std::to_string(map->size()) + " after a round, expected " +
                  std::to_string(e - w.erases_per_round());
      return;
    }
    const std::optional<Value*> odd = map->get(uint64_t{1});
    if (!odd || (*odd)->n != 2 || (*odd)->sentinel.get() != sentinel.get() || map->get(uint64_t{0})) {
      r.failure = "key 1 does not hold its overwritten value, or key 0 survived its erase";
      return;
    }
    ++r.rounds;
  } while (now_ns() < deadline_ns);
}

// The --shared variant: one SyncMap, rounds in step (thread 0 makes the map
// and decides when to stop, at the barrier).
struct SharedRounds {
  tricolor::Persistent<SharedMap> map;
  std::barrier<> barrier;
  std::atomic<bool> stop{false};
  explicit SharedRounds(std::ptrdiff_t threads) : barrier(threads) {}
};

void shared_map_rounds(tricolor::Runtime& rt, const Workload& w, tricolor::MapOptions options, uint64_t t,
                       int64_t deadline_ns, SharedRounds& shared, ThreadRecord& r) {
  tricolor::MutatorScope m(rt);
  tricolor::Local<Sentinel> sentinel(m, tricolor::make<Sentinel>(m, static_cast<int64_t>(t)));
  auto wait = [&] {
    tricolor::BlockingRegion blocked(m);  // a handshake must not wait for a thread at the barrier
    shared.barrier.arrive_and_wait();
  };
  const uint64_t e = w.entries;
  const uint64_t T = w.threads;
  for (;;) {
    wait();
    if (shared.stop.load()) return;
    if (t == 0) shared.map = tricolor::make<SharedMap>(m, m, options);
    wait();
    SharedMap* map = shared.map.get();
    for (uint64_t k = 0; k < e; ++k) {
      timed_assign(r, rt, t, [&] { map->insert_or_assign(m, k * T + t, tricolor::make<Value>(m, sentinel.get(), k)); },
                   k);
      m.safepoint();
    }
    for (uint64_t k = 0; k < e; ++k) {
      timed_assign(r, rt, t,
                   [&] { map->insert_or_assign(m, k * T + t, tricolor::make<Value>(m, sentinel.get(), k + 1)); }, e);
      m.safepoint();
    }
    for (uint64_t k = 0; k < e; k += 2) {
      timed_erase(r, [&] { map->erase(m, k * T + t); });
      m.safepoint();
    }
    ++r.rounds;
    wait();
    if (t == 0) {
      const uint64_t expected = T * (e - w.erases_per_round());
      if (map->size(m) != expected)
        r.failure = "shared map size " + std::to_string(map->size(m)) + " after a round, expected " +
                    std::to_string(expected);
      shared.stop.store(now_ns() >= deadline_ns || !r.failure.empty());
    }
  }
}

// ---------------------------------------------------------- the tricolor child --

std::string histogram_json(const Histogram& after, const Histogram* before = nullptr) {
  std::string out = "[";
  for (int b = 0; b < Histogram::kBuckets; ++b) {
    const uint64_t count = after.bucket_count(b) - (before ? before->bucket_count(b) : 0);
    if (count == 0) continue;
    out += (out.size() > 1 ? "," : "") + std::string("[") + std::to_string(Histogram::bucket_upper(b)) + "," +
           std::to_string(count) + "]";
  }
  return out + "]";
}

int run_tricolor(const std::string& impl, const Workload& w, const std::string& histograms_path) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  tricolor::MapOptions options;
  if (impl == "tricolor_inline") options.growth = tricolor::MapGrowth::kInline;
  else if (impl == "tricolor_stw") setenv("TRICOLOR_MODE", "stw", 1);
  else if (impl != "tricolor") {
    std::fprintf(stderr, "bench_stw_assign: unknown implementation '%s' (tricolor, tricolor_inline, tricolor_stw; "
                 "go runs the Go peer)\n", impl.c_str());
    return 2;
  }
  auto env = [](const char* name) { const char* v = std::getenv(name); return v ? v : "(unset)"; };
  std::printf("stw_assign (%s): threads=%" PRIu64 " entries=%" PRIu64 " live_mb=%" PRIu64
              " seconds=%g shared=%s GOGC=%s GOMEMLIMIT=%s TRICOLOR_MARK_WORKERS=%s\n",
              impl.c_str(), w.threads, w.entries, w.live_mb, w.seconds, w.shared ? "true" : "false", env("GOGC"),
              env("GOMEMLIMIT"), env("TRICOLOR_MARK_WORKERS"));
  std::optional<tricolor::Runtime> rt;
  try {
    rt.emplace();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_stw_assign: %s\n", error.what());
    return 2;
  }
  Metrics metrics;
  std::vector<ThreadRecord> records(w.threads);
  bool ok = true;
  std::string failures;
  tricolor::gc::GcStats before;
  tricolor::gc::GcStats after;
  tricolor::MapStats map_before;
  tricolor::MapStats map_after;
  double wall_s = 0;
  double build_s = 0;
  {
    tricolor::MutatorScope m(*rt);
    tricolor::Persistent<Node> tree;
    const uint64_t n = node_count(w.live_mb);
    const int64_t build_start = now_ns();
    build_live_tree(m, tree, n);
    build_s = static_cast<double>(now_ns() - build_start) * 1e-9;
    std::printf("live tree: %" PRIu64 " nodes built in %.2f s\n", n, build_s);
    rt->collect();  // the timed phase starts from the live heap alone (the Go peer: runtime.GC())

    before = rt->stats();
    map_before = tricolor::map_stats();
    const int64_t start = now_ns();
    const int64_t deadline = start + static_cast<int64_t>(w.seconds * 1e9);
    {
      std::optional<SharedRounds> shared;
      if (w.shared) shared.emplace(static_cast<std::ptrdiff_t>(w.threads));
      std::vector<std::thread> threads;
      for (uint64_t t = 0; t < w.threads; ++t) {
        threads.emplace_back([&, t] {
          if (w.shared) shared_map_rounds(*rt, w, options, t, deadline, *shared, records[t]);
          else own_map_rounds(*rt, w, options, t, deadline, records[t]);
        });
      }
      tricolor::BlockingRegion blocked(m);  // joining: the collector must not wait for this thread
      for (auto& thread : threads) thread.join();
    }
    wall_s = static_cast<double>(now_ns() - start) * 1e-9;
    after = rt->stats();
    map_after = tricolor::map_stats();
    if (!check_live_tree(tree.get(), n)) {
      ok = false;
      failures += " the live tree lost nodes or cross pointers;";
    }
  }

  // Merge the threads and reconcile.
  ThreadRecord all;
  for (uint64_t t = 0; t < w.threads; ++t) {
    ThreadRecord& r = records[t];
    if (!r.failure.empty()) {
      ok = false;
      failures += " thread " + std::to_string(t) + ": " + r.failure + ";";
    }
    all.assign.merge(r.assign);
    all.erase.merge(r.erase);
    all.assignments += r.assignments;
    all.erases += r.erases;
    all.rounds += r.rounds;
    for (const Spike& s : r.spikes) {
      if (all.is_spike(s.ns)) all.add_spike(s);
    }
  }
  // Rounds: per thread, or per shared round (each thread counts every round).
  const uint64_t round_sets = w.shared ? all.rounds / w.threads * w.threads : all.rounds;
  if (w.shared && all.rounds % w.threads != 0) {
    ok = false;
    failures += " shared rounds not in step;";
  }
  const uint64_t expected_assignments = 2 * w.entries * round_sets;
  const uint64_t expected_erases = w.erases_per_round() * round_sets;
  if (all.assignments != expected_assignments || all.assign.count() != all.assignments) {
    ok = false;
    failures += " assignments " + std::to_string(all.assignments) + " (timed " + std::to_string(all.assign.count()) +
                "), expected 2*E*rounds = " + std::to_string(expected_assignments) + ";";
  }
  if (all.erases != expected_erases || all.erase.count() != all.erases) {
    ok = false;
    failures += " erases " + std::to_string(all.erases) + ", expected ceil(E/2)*rounds = " +
                std::to_string(expected_erases) + ";";
  }
  const map_bench::Window pauses{after.pause_ns, before.pause_ns};
  const map_bench::Window ttsp{after.ttsp_ns, before.ttsp_ns};
  const map_bench::Window global{after.global_pause_ns, before.global_pause_ns};
  const uint64_t collections = after.collections - before.collections;
  // Every pause is recorded with its time to safepoint; in stop-the-world
  // mode each cycle is one global pause (a cycle straddling an edge of the
  // window may count on one side only).
  if (pauses.count() != ttsp.count()) {
    ok = false;
    failures += " pauses and times to safepoint disagree;";
  }
  if (impl == "tricolor_stw" && (global.count() + 1 < collections || global.count() > collections + 1)) {
    ok = false;
    failures += " " + std::to_string(global.count()) + " global pauses for " + std::to_string(collections) +
                " stop-the-world cycles;";
  }

  set_metric(metrics, "wall_s", wall_s);
  set_metric(metrics, "ops_per_s", static_cast<double>(all.assignments) / wall_s);
  set_metric(metrics, "assignments", static_cast<double>(all.assignments));
  set_metric(metrics, "erases", static_cast<double>(all.erases));
  set_metric(metrics, "rounds", static_cast<double>(all.rounds));
  set_metric(metrics, "collections", static_cast<double>(collections));
  set_metric(metrics, "pause_count", static_cast<double>(pauses.count()));
  set_metric(metrics, "pause_p50_ns", static_cast<double>(pauses.percentile(0.50)));
  set_metric(metrics, "pause_p99_ns", static_cast<double>(pauses.percentile(0.99)));
  set_metric(metrics, "pause_p999_ns", static_cast<double>(pauses.percentile(0.999)));
  set_metric(metrics, "pause_max_ns", static_cast<double>(pauses.max()));
  set_metric(metrics, "pause_total_ns", static_cast<double>(after.total_pause_ns - before.total_pause_ns));
  set_metric(metrics, "ttsp_p99_ns", static_cast<double>(ttsp.percentile(0.99)));
  set_metric(metrics, "ttsp_max_ns", static_cast<double>(ttsp.max()));
  if (global.count() != 0) set_metric(metrics, "global_pause_max_ns", static_cast<double>(global.max()));
  set_metric(metrics, "assign_p50_ns", static_cast<double>(all.assign.percentile(0.50)));
  set_metric(metrics, "assign_p99_ns", static_cast<double>(all.assign.percentile(0.99)));
  set_metric(metrics, "assign_p999_ns", static_cast<double>(all.assign.percentile(0.999)));
  set_metric(metrics, "assign_max_ns", static_cast<double>(all.assign.max()));
  set_metric(metrics, "erase_p999_ns", static_cast<double>(all.erase.percentile(0.999)));
  set_metric(metrics, "erase_max_ns", static_cast<double>(all.erase.max()));
  set_metric(metrics, "gc_cpu_share",
             tricolor_bench::gc_cpu_share((after.assist_cpu_ns - before.assist_cpu_ns) +
                                              (after.background_cpu_ns - before.background_cpu_ns) +
                                              (after.idle_cpu_ns - before.idle_cpu_ns),
                                          global.sum(), wall_s));
  set_metric(metrics, "heap_goal_bytes",
             after.heap_goal_bytes == SIZE_MAX ? NAN : static_cast<double>(after.heap_goal_bytes));
  set_metric(metrics, "live_bytes_last_cycle", static_cast<double>(after.live_bytes));
  set_metric(metrics, "evacuated_by_mutators",
             static_cast<double>(map_after.evacuated_by_mutators - map_before.evacuated_by_mutators));
  set_metric(metrics, "evacuated_by_workers",
             static_cast<double>(map_after.evacuated_by_workers - map_before.evacuated_by_workers));
  set_metric(metrics, "tables_prefaulted",
             static_cast<double>(map_after.tables_prefaulted - map_before.tables_prefaulted));
  set_metric(metrics, "tables_not_prefaulted",
             static_cast<double>(map_after.tables_not_prefaulted - map_before.tables_not_prefaulted));
  set_metric(metrics, "tree_build_s", build_s);
  set_metric(metrics, "peak_rss_bytes", tricolor_bench::peak_rss_bytes());

  std::printf("largest assignments:");
  for (const Spike& s : all.spikes) {
    std::printf(" %.1fus(size %" PRIu64 ", %s, cycle %" PRIu64 ")", static_cast<double>(s.ns) * 1e-3, s.map_size,
                s.phase, s.cycles);
  }
  std::printf("\n");
  if (!histograms_path.empty()) {
    std::ofstream out(histograms_path);
    out << "{\"impl\": " << tricolor_bench::json_escape(impl) << ",\n \"assign_ns\": " << histogram_json(all.assign)
        << ",\n \"erase_ns\": " << histogram_json(all.erase)
        << ",\n \"pause_ns\": " << histogram_json(after.pause_ns, &before.pause_ns)
        << ",\n \"ttsp_ns\": " << histogram_json(after.ttsp_ns, &before.ttsp_ns) << ",\n \"spikes\": [";
    for (size_t i = 0; i < all.spikes.size(); ++i) {
      const Spike& s = all.spikes[i];
      out << (i ? ", " : "") << "{\"ns\": " << s.ns << ", \"map_size\": " << s.map_size << ", \"phase\": \""
          << s.phase << "\", \"cycles\": " << s.cycles << ", \"thread\": " << s.thread << "}";
    }
    out << "]}\n";
    if (!out) {
      std::fprintf(stderr, "bench_stw_assign: cannot write %s\n", histograms_path.c_str());
      return 1;
    }
  }
  if (!ok) {
    std::fprintf(stderr, "stw_assign: CHECK FAILED:%s\n", failures.c_str());
    return 1;
  }
  tricolor_bench::print_result(impl, metrics);
  return 0;
}

// ------------------------------------------------------------------- floor --

// `--impls floor`: what this machine allows one assignment at best. Any
// assignment touches at least one bucket at a random address of a heap of
// some gigabytes; here T threads each time, for D seconds, one read-modify-
// write of a random 8-byte word in a region of `floor_mb` MiB (transparent
// huge pages, every page touched before the timing, like a warm heap): no
// allocation, no map, no collector. On a virtual machine whose host maps
// guest memory lazily, even that has a tail (bench/RESULTS.md).
int run_floor(const Workload& w, uint64_t floor_mb, const std::string& histograms_path) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("stw_assign (floor): threads=%" PRIu64 " seconds=%g region=%" PRIu64 " MiB\n", w.threads, w.seconds,
              floor_mb);
  const size_t bytes = static_cast<size_t>(floor_mb) << 20;
  constexpr size_t kHuge = size_t{2} << 20;
  void* mapping = mmap(nullptr, bytes + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) {
    std::fprintf(stderr, "bench_stw_assign: floor: cannot map %" PRIu64 " MiB\n", floor_mb);
    return 2;
  }
  auto* words = reinterpret_cast<uint64_t*>((reinterpret_cast<uintptr_t>(mapping) + kHuge - 1) & ~(kHuge - 1));
  (void)madvise(words, bytes, MADV_HUGEPAGE);
  const size_t count = bytes / sizeof(uint64_t);
  for (size_t i = 0; i < count; i += 4096 / sizeof(uint64_t)) words[i] = i;
  std::vector<ThreadRecord> records(w.threads);
  const int64_t start = now_ns();
  const int64_t deadline = start + static_cast<int64_t>(w.seconds * 1e9);
  {
    std::vector<std::thread> threads;
    for (uint64_t t = 0; t < w.threads; ++t) {
      threads.emplace_back([&, t] {
        ThreadRecord& r = records[t];
        uint64_t x = 0x9e3779b97f4a7c15ull * (t + 1);
        do {
          for (int k = 0; k < 1024; ++k) {  // the deadline is checked every 1024 accesses
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            std::atomic_ref<uint64_t> word(words[x % count]);  // another thread may hit it
            const int64_t op_start = now_ns();
            word.fetch_add(1, std::memory_order_relaxed);
            r.assign.record(static_cast<uint64_t>(now_ns() - op_start));
            ++r.assignments;
          }
        } while (now_ns() < deadline);
      });
    }
    for (auto& thread : threads) thread.join();
  }
  const double wall_s = static_cast<double>(now_ns() - start) * 1e-9;
  ThreadRecord all;
  for (const ThreadRecord& r : records) {
    all.assign.merge(r.assign);
    all.assignments += r.assignments;
  }
  munmap(mapping, bytes + kHuge);
  Metrics metrics;
  set_metric(metrics, "wall_s", wall_s);
  set_metric(metrics, "ops_per_s", static_cast<double>(all.assignments) / wall_s);
  set_metric(metrics, "assignments", static_cast<double>(all.assignments));
  set_metric(metrics, "assign_p50_ns", static_cast<double>(all.assign.percentile(0.50)));
  set_metric(metrics, "assign_p99_ns", static_cast<double>(all.assign.percentile(0.99)));
  set_metric(metrics, "assign_p999_ns", static_cast<double>(all.assign.percentile(0.999)));
  set_metric(metrics, "assign_max_ns", static_cast<double>(all.assign.max()));
  set_metric(metrics, "floor_region_bytes", static_cast<double>(bytes));
  set_metric(metrics, "peak_rss_bytes", tricolor_bench::peak_rss_bytes());
  if (!histograms_path.empty()) {
    std::ofstream out(histograms_path);
    out << "{\"impl\": \"floor\",\n \"assign_ns\": " << histogram_json(all.assign) << "}\n";
    if (!out) {
      std::fprintf(stderr, "bench_stw_assign: cannot write %s\n", histograms_path.c_str());
      return 1;
    }
  }
  tricolor_bench::print_result("floor", metrics);
  return 0;
}

// ------------------------------------------------------------------ driver --

std::string default_go_peer() { return tricolor_bench::beside_this_program("stwassign", "STWASSIGN_GO"); }

std::string cell(const Metrics& m, const char* name, double scale, const char* format) {
  for (const auto& [key, value] : m) {
    if (key != name || std::isnan(value)) continue;
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, value * scale);
    return buffer;
  }
  return "-";
}

// "median (min–max)" of a metric over the runs, or the single value.
std::string spread(const std::vector<Metrics>& runs, const char* name, double scale, const char* format) {
  std::vector<double> values;
  for (const Metrics& run : runs) values.push_back(tricolor_bench::get_metric(run, name, NAN) * scale);
  std::erase_if(values, [](double v) { return std::isnan(v); });
  if (values.empty()) return "-";
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, format, tricolor_bench::median(values));
  std::string out = buffer;
  if (values.size() > 1) {
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    char range[96];
    std::snprintf(range, sizeof range, (std::string(" (") + format + "-" + format + ")").c_str(), *lo, *hi);
    out += range;
  }
  return out;
}

void print_table(const tricolor_bench::Record& record, const Workload& w) {
  std::printf("\nstw_assign: %" PRIu64 " threads, %" PRIu64 " entries per map, %" PRIu64
              " MiB live, %g s%s; %u cores, %s\n",
              w.threads, w.entries, w.live_mb, w.seconds, w.shared ? ", one shared map" : "",
              tricolor_bench::cpu_cores(), tricolor_bench::cpu_model().c_str());
  struct Column {
    const char* header;
    const char* metric;
    double scale;
    const char* format;
  };
  static const Column kColumns[] = {
      {"assign/s", "ops_per_s", 1e-6, "%.2fM"},     {"asg_p50_us", "assign_p50_ns", 1e-3, "%.2f"},
      {"asg_p99.9_us", "assign_p999_ns", 1e-3, "%.2f"}, {"asg_max_us", "assign_max_ns", 1e-3, "%.0f"},
      {"pauses", "pause_count", 1, "%.0f"},          {"pause_p99_us", "pause_p99_ns", 1e-3, "%.1f"},
      {"pause_max_us", "pause_max_ns", 1e-3, "%.1f"}, {"ttsp_max_us", "ttsp_max_ns", 1e-3, "%.1f"},
      {"GCs", "collections", 1, "%.0f"},             {"GC_CPU", "gc_cpu_share", 100, "%.0f%%"},
      {"RSS_MiB", "peak_rss_bytes", 1.0 / 1048576, "%.0f"},
  };
  std::printf("%-16s", "implementation");
  for (const Column& c : kColumns) std::printf(" %13s", c.header);
  std::printf("\n");
  for (const auto& [impl, runs] : record.runs) {
    std::printf("%-16s", impl.c_str());
    const Metrics median = tricolor_bench::median_metrics(runs);
    for (const Column& c : kColumns) std::printf(" %13s", cell(median, c.metric, c.scale, c.format).c_str());
    std::printf("\n");
  }
  if (record.runs.front().second.size() > 1) {
    std::printf("medians of %zu runs; spread (min-max):\n", record.runs.front().second.size());
    for (const auto& [impl, runs] : record.runs) {
      std::printf("  %-16s pause_max_us %s, asg_max_us %s, asg_p99.9_us %s, assign/s %s\n", impl.c_str(),
                  spread(runs, "pause_max_ns", 1e-3, "%.1f").c_str(), spread(runs, "assign_max_ns", 1e-3, "%.0f").c_str(),
                  spread(runs, "assign_p999_ns", 1e-3, "%.2f").c_str(), spread(runs, "ops_per_s", 1e-6, "%.2f").c_str());
    }
  }
  // Ratios against Go from the same run, and the targets.
  const Metrics* go = nullptr;
  const Metrics* ours = nullptr;
  const Metrics* floor = nullptr;
  for (const auto& [impl, m] : record.implementations) {
    if (impl == "go") go = &m;
    if (impl == "tricolor") ours = &m;
    if (impl == "floor") floor = &m;
  }
  if (ours == nullptr) return;
  auto get = [](const Metrics* m, const char* name) { return tricolor_bench::get_metric(*m, name, NAN); };
  if (go != nullptr) {
    std::printf("tricolor / go: assign/s %.2fx, pause max %.4fx (1/%.0f), asg p99.9 %.2fx, asg max %.3fx, "
                "peak RSS %.2fx\n",
                get(ours, "ops_per_s") / get(go, "ops_per_s"), get(ours, "pause_max_ns") / get(go, "pause_max_ns"),
                get(go, "pause_max_ns") / get(ours, "pause_max_ns"),
                get(ours, "assign_p999_ns") / get(go, "assign_p999_ns"),
                get(ours, "assign_max_ns") / get(go, "assign_max_ns"),
                get(ours, "peak_rss_bytes") / get(go, "peak_rss_bytes"));
  }
  auto verdict = [](bool met) { return met ? "met" : "MISSED"; };
  std::printf("targets (tricolor, default knobs): max pause %.1f us <= 100 us: %s", get(ours, "pause_max_ns") * 1e-3,
              verdict(get(ours, "pause_max_ns") <= 100e3));
  if (go != nullptr) {
    std::printf("; <= 1/20 of go's %.0f us: %s", get(go, "pause_max_ns") * 1e-3,
                verdict(get(ours, "pause_max_ns") * 20 <= get(go, "pause_max_ns")));
  }
  std::printf("; assign p99.9 %.2f us <= 5 us: %s; assign max %.0f us <= 1000 us: %s",
              get(ours, "assign_p999_ns") * 1e-3, verdict(get(ours, "assign_p999_ns") <= 5e3),
              get(ours, "assign_max_ns") * 1e-3, verdict(get(ours, "assign_max_ns") <= 1e6));
  if (floor != nullptr) {
    std::printf(" (the floor, one random update in %.0f MiB: p99.9 %.2f us, max %.0f us)",
                get(floor, "floor_region_bytes") / 1048576, get(floor, "assign_p999_ns") * 1e-3,
                get(floor, "assign_max_ns") * 1e-3);
  }
  if (go != nullptr) {
    std::printf("; throughput >= go's: %s; peak RSS <= go's: %s",
                verdict(get(ours, "ops_per_s") >= get(go, "ops_per_s")),
                verdict(get(ours, "peak_rss_bytes") <= get(go, "peak_rss_bytes")));
  }
  std::printf("\n");
}

int drive(const Workload& w, uint64_t floor_mb, std::vector<std::string> impls, int repeat, std::string go_peer, bool no_go,
          bool trace, const std::string& out_dir, const std::string& command) {
  if (no_go) std::erase(impls, std::string("go"));
  if (std::find(impls.begin(), impls.end(), "go") != impls.end() && access(go_peer.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "stw_assign: Go peer %s not found (bench/peers/go/build.sh stwassign builds it; needs go): "
                 "the go column is skipped\n", go_peer.c_str());
    std::erase(impls, std::string("go"));
  }
  const std::string histogram_dir = out_dir + "/stw_assign";
  std::filesystem::create_directories(histogram_dir);
  tricolor_bench::Record record{"stw_assign", command, {}, {}};
  for (const auto& impl : impls) record.runs.emplace_back(impl, std::vector<Metrics>{});
  for (int r = 1; r <= repeat; ++r) {
    for (size_t i = 0; i < impls.size(); ++i) {
      const std::string& impl = impls[i];
      std::printf("== stw_assign: %s, run %d of %d ==\n", impl.c_str(), r, repeat);
      std::fflush(stdout);
      std::vector<std::string> child = {impl == "go" ? go_peer : "/proc/self/exe"};
      for (const std::string& flag : w.flags()) child.push_back(flag);
      const std::string histograms = histogram_dir + "/" + impl + "-r" + std::to_string(r) + ".json";
      child.insert(child.end(), {"--impl", impl, "--histograms", histograms});
      if (impl == "floor") child.insert(child.end(), {"--floor-mb", std::to_string(floor_mb)});
      // --trace: each tricolor run writes its timeline beside its distributions.
      const bool traced = trace && impl != "go";
      if (traced) setenv("TRICOLOR_TRACE", (histogram_dir + "/" + impl + "-r" + std::to_string(r) + ".trace.json").c_str(), 1);
      Metrics metrics;
      bool got_result = false;
      const int status = tricolor_bench::run_result_child(child, impl, metrics, got_result);
      if (traced) unsetenv("TRICOLOR_TRACE");
      if (status != 0 || !got_result) {
        std::fprintf(stderr, "stw_assign: %s FAILED (exit status %d%s); no record written\n", impl.c_str(), status,
                     got_result ? "" : ", no result line");
        return status != 0 ? status : 1;
      }
      record.runs[i].second.push_back(std::move(metrics));
    }
  }
  for (const auto& [impl, runs] : record.runs) record.implementation(impl) = tricolor_bench::median_metrics(runs);
  if (repeat == 1) record.runs.clear();
  std::string path;
  try {
    path = tricolor_bench::write_record(record, out_dir);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "stw_assign: %s\n", error.what());
    return 1;
  }
  if (record.runs.empty()) {  // the table reads the runs
    for (const auto& [impl, m] : record.implementations) record.runs.emplace_back(impl, std::vector<Metrics>{m});
  }
  print_table(record, w);
  std::printf("wrote %s (distributions: %s/)\n", path.c_str(), histogram_dir.c_str());
  return 0;
}

void usage(FILE* to) {
  std::fprintf(to,
               "usage: bench_stw_assign [--threads T] [--entries E] [--live-mb L] [--seconds D] [--shared]\n"
               "                        [--impls LIST] [--repeat R] [--go PATH | --no-go] [--trace] [--out DIR]\n"
               "                        [--floor-mb M]\n"
               "       bench_stw_assign [workload flags] --impl IMPL [--histograms FILE]   (one run, a child)\n"
               "  T mutator threads (2), E keys per map and round (4000000), L MiB of live tree (256),\n"
               "  D seconds of rounds (10); --shared: one SyncMap for all threads.\n"
               "  LIST: of tricolor, tricolor_inline, tricolor_stw, go (default: all four), run R times\n"
               "  alternately (default 1); the Go peer: --go, else $STWASSIGN_GO, else stwassign beside\n"
               "  this program. GOGC, GOMEMLIMIT, TRICOLOR_MARK_WORKERS reach every child unchanged.\n"
               "  --trace: each tricolor run also writes its TRICOLOR_TRACE timeline (for scripts/plot).\n"
               "  floor (opt-in, --impls ...,floor): the machine's floor, one timed random 8-byte update per\n"
               "  operation in a warm region of --floor-mb MiB (2048: about our peak RSS at default knobs).\n");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = tricolor_bench::command_line(argc, argv);
  const std::string out_dir = tricolor_bench::take_out_dir(argc, argv);
  Workload w;
  std::string impl;
  std::string histograms;
  std::vector<std::string> impls = {"tricolor", "tricolor_inline", "tricolor_stw", "go"};
  uint64_t repeat = 1;
  uint64_t floor_mb = 2048;
  std::string go_peer = default_go_peer();
  bool no_go = false;
  bool trace = false;
  for (int i = 1; i < argc; ++i) {
    std::string value;
    if (take_workload_flag(w, argc, argv, i)) continue;
    if (take_flag("--impl", argc, argv, i, impl) || take_flag("--histograms", argc, argv, i, histograms) ||
        take_flag("--go", argc, argv, i, go_peer)) {
      continue;
    }
    if (take_flag("--impls", argc, argv, i, value)) {
      impls = map_bench::split_list(value);
      for (const std::string& name : impls) {
        if (name != "tricolor" && name != "tricolor_inline" && name != "tricolor_stw" && name != "go" &&
            name != "floor") {
          std::fprintf(stderr,
                       "bench_stw_assign: --impls: unknown '%s' (tricolor, tricolor_inline, tricolor_stw, go, floor)\n",
                       name.c_str());
          return 2;
        }
      }
      if (impls.empty()) {
        std::fprintf(stderr, "bench_stw_assign: --impls expects a comma-separated list, got '%s'\n", value.c_str());
        return 2;
      }
    } else if (take_flag("--floor-mb", argc, argv, i, value)) {
      if (!map_bench::parse_u64(value, 1, 1 << 20, floor_mb)) {
        std::fprintf(stderr, "bench_stw_assign: --floor-mb expects an integer in 1..1048576, got '%s'\n", value.c_str());
        return 2;
      }
    } else if (take_flag("--repeat", argc, argv, i, value)) {
      if (!map_bench::parse_u64(value, 1, 100, repeat)) {
        std::fprintf(stderr, "bench_stw_assign: --repeat expects an integer in 1..100, got '%s'\n", value.c_str());
        return 2;
      }
    } else if (std::string_view(argv[i]) == "--no-go") {
      no_go = true;
    } else if (std::string_view(argv[i]) == "--trace") {
      trace = true;
    } else if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "bench_stw_assign: unknown argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (impl == "floor") return run_floor(w, floor_mb, histograms);
  if (!impl.empty()) return run_tricolor(impl, w, histograms);
  return drive(w, floor_mb, impls, static_cast<int>(repeat), go_peer, no_go, trace, out_dir, command);
}
