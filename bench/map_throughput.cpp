// map_throughput.cpp — the managed map's operation throughput beside
// std::unordered_map, absl::flat_hash_map and Go's built-in map, one program
// (Google Benchmark), one record: OUT/map_throughput.json.
//
// Workload (bench/map_workload.h, the Go peer's contract): a map of N
// uint64 → uint64 entries, key i = mix(i), value i; N = 1K, 10K, 100K, 1M
// by default (--sizes; 10M is opt-in: --sizes 1000,...,10000000, or
// scripts/bench with MAP_THROUGHPUT_10M=1). Per size, per implementation:
//   insert       a new map, no reserve, grown by inserting keys 0..N-1
//                (the map's construction is timed, its destruction is not)
//   lookup_hit   find every key 0..N-1 in a full map, summing the values
//   lookup_miss  find mix(i + N) for i = 0..N-1 (never present)
//   iterate      one full pass over the full map, summing the values
//                (ns per entry)
//   erase        erase every key of a fresh full map (built untimed)
// One benchmark iteration is one round over the N keys; only the round's
// own operations are timed (manual time: untimed setup — a fresh full map
// for erase, dropping the map built by insert — stays out). ns_per_op =
// timed ns / (iterations × N). Each figure is the median of --reps
// repetitions (default 3) of at least --min-time seconds (default 0.2) of
// timed work, as the Go peer does (its -reps/-min-time get the same values).
//
// Implementations:
//   tricolor     Map<uint64_t, uint64_t> (MapGrowth::kDeferred, the default;
//                --growth inline for Go 1.19's inline growth) with GC effectively off:
//                set_gc_percent(kGcPercentOff) for the whole benchmark, so
//                no cycle runs while it is measured; the garbage of earlier
//                rounds (old tables) is collected by an explicit collect()
//                between rounds, untimed, whenever 256 MiB has piled up.
//   tricolor_gc  the same map with the collector running: the default GOGC
//                (or the environment's), a live pointer-rich tree of
//                --live-mb MiB (default 64; built once at start-up) and a
//                registered mutator thread churning 1000-node garbage trees
//                at --churn-mb-per-s (default 256 MB/s) during each
//                benchmark, so cycles run during the measurement;
//                collections_N counts the cycles during size N's benchmarks.
//   std          std::unordered_map<uint64_t, uint64_t> (std::hash: the
//                identity; keys are already mixed).
//   absl         absl::flat_hash_map<uint64_t, uint64_t> (absl::Hash), if
//                libabsl-dev was found at configure time.
//   go           the Go peer (bench/peers/go/mapbench, built beside this
//                program by bench/peers/go/build.sh) run after the C++ benchmarks
//                with -mode throughput and the same sizes, reps and min-time;
//                its flat metrics are merged unchanged. Skipped, with a
//                message, if the binary is missing (--go-peer PATH,
//                $MAPBENCH_GO; --no-go to skip it).
// The tricolor loops poll the mutator's safepoint every 64 operations (an
// interpreter polls at back-edges; Go preempts asynchronously); the C++
// peers' loops do not poll. While std/absl run, the benchmark thread is in a
// BlockingRegion (it does not touch the managed heap).
//
// Metrics (per implementation, N the size): insert_ns_per_op_N,
// lookup_hit_ns_per_op_N, lookup_miss_ns_per_op_N, iterate_ns_per_entry_N,
// erase_ns_per_op_N — the Go peer's names; tricolor and tricolor_gc add
// collections_N (tricolor: cycles not explicitly requested, i.e. 0 if GC was
// off as intended) and the whole run's collections / explicit_collections;
// the C++ implementations add insert_page_faults_per_op_N (page faults the
// benchmark thread took in the timed part of insert rounds, per insert: on
// this project's 2-vCPU VMs a first touch of a 4 KiB page costs 12-18 µs,
// a memset of an already-mapped one ~0.3 µs);
// every implementation gets process_peak_rss_bytes (the whole C++ process),
// go its own peak_rss_bytes if the peer reports one.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tricolor/tricolor.h>
#include <unordered_map>
#include <vector>

#if TRICOLOR_BENCH_HAVE_ABSL
#include <absl/container/flat_hash_map.h>
#endif

#include "harness.h"
#include "map_workload.h"
#include "record.h"

namespace {

using map_bench::key_of;
using map_bench::missing_key_of;
using map_bench::now_ns;
using tricolor_bench::Metrics;
using tricolor_bench::set_metric;
using IntMap = tricolor::Map<uint64_t, uint64_t>;

// ----------------------------------------------------------------- config --

struct Config {
  std::vector<uint64_t> sizes = {1000, 10000, 100000, 1000000};
  std::vector<std::string> impls = {"tricolor", "tricolor_gc", "std", "absl", "go"};
  uint64_t reps = 3;
  double min_time = 0.2;
  uint64_t live_mb = 64;
  double churn_mb_per_s = 256;
  std::string go_peer;
  bool go = true;
  tricolor::MapOptions map_options;  // --growth: the tricolor maps' growth mode (default deferred)
};
Config g_config;

enum class Op { kInsert, kHit, kMiss, kIterate, kErase };
constexpr Op kOps[] = {Op::kInsert, Op::kHit, Op::kMiss, Op::kIterate, Op::kErase};
const char* op_name(Op op) {
  switch (op) {
    case Op::kInsert: return "insert";
    case Op::kHit: return "lookup_hit";
    case Op::kMiss: return "lookup_miss";
    case Op::kIterate: return "iterate";
    case Op::kErase: return "erase";
  }
  return "?";
}
std::string metric_name(Op op, uint64_t n) {
  return std::string(op_name(op)) + (op == Op::kIterate ? "_ns_per_entry_" : "_ns_per_op_") + std::to_string(n);
}

tricolor::Runtime* g_runtime = nullptr;
tricolor::Mutator* g_mutator = nullptr;
int g_default_gc_percent = 100;
std::optional<map_bench::LiveTree> g_live;
uint64_t g_sink = 0;  // sums of lookups and iterations: no loop is dead code
uint64_t g_round_faults = 0;  // page faults of the benchmark thread in the timed part of insert rounds

[[noreturn]] void wrong(const char* what, uint64_t n) {
  std::fprintf(stderr, "bench_map_throughput: CHECK FAILED: %s at N=%" PRIu64 "\n", what, n);
  std::exit(1);
}

uint64_t expected_sum(uint64_t n) { return n * (n - 1) / 2; }

// ------------------------------------------------------------- tricolor ----

// Collector statistics over one implementation's benchmarks at one size.
struct StatsWindow {
  bool started = false;
  tricolor::Stats before;
  tricolor::Stats after;
};
std::map<std::pair<std::string, uint64_t>, StatsWindow> g_windows;

class TricolorImpl {
 public:
  explicit TricolorImpl(bool gc) : gc_(gc), full_(), name_(gc ? "tricolor_gc" : "tricolor") {}

  void begin(uint64_t n) {
    tricolor::Runtime& rt = *g_runtime;
    if (gc_) {
      rt.set_gc_percent(g_default_gc_percent);
    } else {
      rt.set_gc_percent(tricolor::kGcPercentOff);
      if (g_cycle_may_run) {
        rt.collect();  // waits for a cycle that starts now: none is left running after it
        g_cycle_may_run = false;
      }
    }
    StatsWindow& window = g_windows[{name_, n}];
    if (!window.started) {
      window.before = rt.stats();
      window.started = true;
    }
    if (gc_) {
      g_cycle_may_run = true;
      churn_.emplace(rt, g_config.churn_mb_per_s * 1e6);
      churn_->start();
    }
  }
  void end(uint64_t n) {
    if (churn_) {
      churn_->stop(g_mutator);
      churn_.reset();
    }
    g_windows[{name_, n}].after = g_runtime->stats();
  }

  void ensure_full(uint64_t n) {
    if (full_n_ == n && full_.get() != nullptr) return;
    tricolor::Mutator& m = *g_mutator;
    full_ = nullptr;
    full_ = tricolor::make<IntMap>(m, g_config.map_options);
    IntMap& map = *full_.get();
    for (uint64_t i = 0; i < n; ++i) {
      map.insert_or_assign(m, key_of(i), i);
      if ((i & 63) == 0) m.safepoint();
    }
    full_n_ = n;
    after_round();
  }
  void drop_full() {
    full_ = nullptr;
    full_n_ = 0;
  }

  double round(Op op, uint64_t n) {
    tricolor::Mutator& m = *g_mutator;
    double ns = 0;
    switch (op) {
      case Op::kInsert: {
        const uint64_t faults = map_bench::thread_minor_faults();
        const int64_t t = now_ns();
        tricolor::Local<IntMap> map(m, tricolor::make<IntMap>(m, g_config.map_options));
        for (uint64_t i = 0; i < n; ++i) {
          map->insert_or_assign(m, key_of(i), i);
          if ((i & 63) == 0) m.safepoint();
        }
        ns = static_cast<double>(now_ns() - t);
        g_round_faults += map_bench::thread_minor_faults() - faults;
        if (map->size() != n) wrong("insert: map size", n);
        break;
      }
      case Op::kHit: {
        const IntMap& map = *full_.get();
        uint64_t s = 0;
        const int64_t t = now_ns();
        for (uint64_t i = 0; i < n; ++i) {
          s += *map.find(key_of(i));
          if ((i & 63) == 0) m.safepoint();
        }
        ns = static_cast<double>(now_ns() - t);
        if (s != expected_sum(n)) wrong("lookup_hit: sum of values", n);
        g_sink += s;
        break;
      }
      case Op::kMiss: {
        const IntMap& map = *full_.get();
        uint64_t s = 0;
        const int64_t t = now_ns();
        for (uint64_t i = 0; i < n; ++i) {
          if (const uint64_t* v = map.find(missing_key_of(i, n))) s += *v;
          if ((i & 63) == 0) m.safepoint();
        }
        ns = static_cast<double>(now_ns() - t);
        if (s != 0) wrong("lookup_miss: found a missing key", n);
        g_sink += s;
        break;
      }
      case Op::kIterate: {
        uint64_t s = 0;
        uint64_t count = 0;
        const int64_t t = now_ns();
        for (auto [key, value] : full_->entries(m)) {
          s += value;
          ++count;
        }
        ns = static_cast<double>(now_ns() - t);
        if (s != expected_sum(n) || count != n) wrong("iterate: sum or count", n);
        g_sink += s;
        break;
      }
      case Op::kErase: {
        tricolor::Local<IntMap> map(m, tricolor::make<IntMap>(m, g_config.map_options));
        for (uint64_t i = 0; i < n; ++i) {
          map->insert_or_assign(m, key_of(i), i);
          if ((i & 63) == 0) m.safepoint();
        }
        const int64_t t = now_ns();
        for (uint64_t i = 0; i < n; ++i) {
          map->erase(m, key_of(i));
          if ((i & 63) == 0) m.safepoint();
        }
        ns = static_cast<double>(now_ns() - t);
        if (map->size() != 0) wrong("erase: map not empty", n);
        break;
      }
    }
    after_round();
    return ns;
  }

  static bool g_cycle_may_run;

 private:
  // GC off: collect the old tables, untimed, once 256 MiB of garbage piled up.
  void after_round() {
    if (gc_) return;
    tricolor::gc::Heap& heap = g_mutator->collector().heap();
    if (heap.heap_live_bytes() > baseline_ + (size_t{256} << 20)) {
      g_runtime->collect();
      baseline_ = heap.heap_live_bytes();
    }
  }

  bool gc_;
  tricolor::Persistent<IntMap> full_;
  uint64_t full_n_ = 0;
  std::string name_;
  size_t baseline_ = 0;
  std::optional<map_bench::GarbageChurn> churn_;
};
bool TricolorImpl::g_cycle_may_run = true;

// --------------------------------------------------------- C++ hash maps ----

template <class MapT>
class HashMapImpl {
 public:
  void begin(uint64_t) { blocked_.emplace(*g_mutator); }
  void end(uint64_t) { blocked_.reset(); }

  void ensure_full(uint64_t n) {
    if (full_ && full_n_ == n) return;
    full_.reset();
    full_ = std::make_unique<MapT>();
    for (uint64_t i = 0; i < n; ++i) (*full_)[key_of(i)] = i;
    full_n_ = n;
  }
  void drop_full() {
    full_.reset();
    full_n_ = 0;
  }

  double round(Op op, uint64_t n) {
    switch (op) {
      case Op::kInsert: {
        double ns = 0;
        {
          const uint64_t faults = map_bench::thread_minor_faults();
          const int64_t t = now_ns();
          MapT map;  // constructed in the timed region, destroyed after it
          for (uint64_t i = 0; i < n; ++i) map[key_of(i)] = i;
          ns = static_cast<double>(now_ns() - t);
          g_round_faults += map_bench::thread_minor_faults() - faults;
          if (map.size() != n) wrong("insert: map size", n);
        }
        return ns;
      }
      case Op::kHit: {
        const MapT& map = *full_;
        uint64_t s = 0;
        const int64_t t = now_ns();
        for (uint64_t i = 0; i < n; ++i) s += map.find(key_of(i))->second;
        const double ns = static_cast<double>(now_ns() - t);
        if (s != expected_sum(n)) wrong("lookup_hit: sum of values", n);
        g_sink += s;
        return ns;
      }
      case Op::kMiss: {
        const MapT& map = *full_;
        uint64_t s = 0;
        const int64_t t = now_ns();
        for (uint64_t i = 0; i < n; ++i) {
          auto it = map.find(missing_key_of(i, n));
          if (it != map.end()) s += it->second;
        }
        const double ns = static_cast<double>(now_ns() - t);
        if (s != 0) wrong("lookup_miss: found a missing key", n);
        g_sink += s;
        return ns;
      }
      case Op::kIterate: {
        uint64_t s = 0;
        uint64_t count = 0;
        const int64_t t = now_ns();
        for (const auto& [key, value] : *full_) {
          s += value;
          ++count;
        }
        const double ns = static_cast<double>(now_ns() - t);
        if (s != expected_sum(n) || count != n) wrong("iterate: sum or count", n);
        g_sink += s;
        return ns;
      }
      case Op::kErase: {
        MapT map;
        for (uint64_t i = 0; i < n; ++i) map[key_of(i)] = i;
        const int64_t t = now_ns();
        for (uint64_t i = 0; i < n; ++i) map.erase(key_of(i));
        const double ns = static_cast<double>(now_ns() - t);
        if (!map.empty()) wrong("erase: map not empty", n);
        return ns;
      }
    }
    return 0;
  }

 private:
  std::unique_ptr<MapT> full_;
  uint64_t full_n_ = 0;
  std::optional<tricolor::BlockingRegion> blocked_;
};

// ---------------------------------------------------------- benchmarks ----

// Drops the full maps of every other implementation/size, so at most one is
// alive (the memory of a 10M-entry map is not small).
struct FullMaps {
  std::function<void()> drop_all;
};
FullMaps g_full_maps;
std::string g_current_full;

template <class Impl>
void run_benchmark(benchmark::State& state, Impl& impl, const std::string& impl_name, Op op, uint64_t n) {
  const std::string owner = impl_name + "/" + std::to_string(n);
  if (op != Op::kInsert && op != Op::kErase && g_current_full != owner) {
    g_full_maps.drop_all();
    g_current_full = owner;
  }
  impl.begin(n);
  if (op != Op::kInsert && op != Op::kErase) impl.ensure_full(n);
  double timed_ns = 0;
  g_round_faults = 0;
  for (auto _ : state) {
    const double ns = impl.round(op, n);
    state.SetIterationTime(ns * 1e-9);
    timed_ns += ns;
  }
  impl.end(n);
  const double ops = static_cast<double>(state.iterations()) * static_cast<double>(n);
  state.counters["ns_per_op"] = timed_ns / ops;
  if (op == Op::kInsert) state.counters["faults_per_op"] = static_cast<double>(g_round_faults) / ops;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

TricolorImpl* g_tricolor = nullptr;
TricolorImpl* g_tricolor_gc = nullptr;
HashMapImpl<std::unordered_map<uint64_t, uint64_t>>* g_std = nullptr;
#if TRICOLOR_BENCH_HAVE_ABSL
HashMapImpl<absl::flat_hash_map<uint64_t, uint64_t>>* g_absl = nullptr;
#endif

// Keeps the median ns_per_op of each benchmark ("impl/op/N").
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  struct Result {
    double ns_per_op = 0;
    double faults_per_op = -1;
    bool from_median = false;
  };
  std::map<std::string, Result> results;

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Aggregate && !median) continue;
      const auto found = run.counters.find("ns_per_op");
      if (found == run.counters.end()) continue;
      Result& result = results[run.run_name.function_name];
      if (result.from_median && !median) continue;
      result.ns_per_op = found->second.value;
      const auto faults = run.counters.find("faults_per_op");
      if (faults != run.counters.end()) result.faults_per_op = faults->second.value;
      result.from_median = median;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

bool wants(const std::string& impl) {
  return std::find(g_config.impls.begin(), g_config.impls.end(), impl) != g_config.impls.end();
}

void register_benchmarks() {
  for (uint64_t n : g_config.sizes) {
    auto add = [&](const std::string& impl, auto* target) {
      if (target == nullptr || !wants(impl)) return;
      for (Op op : kOps) {
        const std::string name = impl + "/" + op_name(op) + "/" + std::to_string(n);
        benchmark::RegisterBenchmark(name.c_str(),
                                     [target, impl, op, n](benchmark::State& state) {
                                       run_benchmark(state, *target, impl, op, n);
                                     })
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
      }
    };
    add("tricolor", g_tricolor);
    add("tricolor_gc", g_tricolor_gc);
    add("std", g_std);
#if TRICOLOR_BENCH_HAVE_ABSL
    add("absl", g_absl);
#endif
  }
}

void usage(FILE* to) {
  std::fprintf(to,
               "usage: bench_map_throughput [--sizes N,N,...] [--impls LIST] [--reps R] [--min-time S]\n"
               "       [--live-mb MIB] [--churn-mb-per-s R] [--growth MODE] [--go-peer PATH] [--no-go] [--out DIR]\n"
               "       [Google Benchmark flags]\n"
               "  --sizes: map sizes (default 1000,10000,100000,1000000; add 10000000 for the 10M size)\n"
               "  --impls: any of tricolor,tricolor_gc,std,absl,go (default all)\n"
               "  --reps, --min-time: repetitions (median reported) and least timed seconds per repetition,\n"
               "    for both Google Benchmark and the Go peer (default 3 and 0.2)\n"
               "  --live-mb: live tree of tricolor_gc in MiB (default 64); --churn-mb-per-s: its garbage rate\n"
               "    (default 256)\n"
               "  --growth: deferred (default) or inline, the tricolor maps' MapGrowth\n"
               "  --go-peer: the Go peer binary (default $MAPBENCH_GO, else mapbench beside this program)\n");
}

// Parses our flags out of argv (the rest goes to Google Benchmark); -1 ok, else exit status.
int parse_flags(int& argc, char** argv) {
  Config& c = g_config;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    std::string value;
    auto bad = [&](const char* flag, const char* expects) {
      std::fprintf(stderr, "bench_map_throughput: %s expects %s, got '%s'\n", flag, expects, value.c_str());
      return 2;
    };
    if (map_bench::take_flag("--sizes", argc, argv, i, value)) {
      if (!map_bench::parse_sizes(value, c.sizes)) return bad("--sizes", "a comma-separated list of sizes >= 1");
    } else if (map_bench::take_flag("--impls", argc, argv, i, value)) {
      c.impls = map_bench::split_list(value);
      for (const auto& impl : c.impls) {
        if (impl != "tricolor" && impl != "tricolor_gc" && impl != "std" && impl != "absl" && impl != "go")
          return bad("--impls", "names among tricolor,tricolor_gc,std,absl,go");
      }
    } else if (map_bench::take_flag("--reps", argc, argv, i, value)) {
      if (!map_bench::parse_u64(value, 1, 1000, c.reps)) return bad("--reps", "an integer in 1..1000");
    } else if (map_bench::take_flag("--min-time", argc, argv, i, value)) {
      if (!map_bench::parse_seconds(value, c.min_time)) return bad("--min-time", "a number of seconds > 0");
    } else if (map_bench::take_flag("--live-mb", argc, argv, i, value)) {
      if (!map_bench::parse_u64(value, 0, 1 << 20, c.live_mb)) return bad("--live-mb", "an integer in 0..1048576");
    } else if (map_bench::take_flag("--churn-mb-per-s", argc, argv, i, value)) {
      if (!map_bench::parse_seconds(value, c.churn_mb_per_s)) return bad("--churn-mb-per-s", "a rate > 0");
    } else if (map_bench::take_flag("--go-peer", argc, argv, i, value)) {
      c.go_peer = value;
    } else if (map_bench::take_flag("--growth", argc, argv, i, value)) {
      try {
        c.map_options.growth = tricolor::parse_map_growth(value);
      } catch (const std::exception&) {
        return bad("--growth", "deferred or inline");
      }
    } else if (std::string_view(argv[i]) == "--no-go") {
      c.go = false;
    } else if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      usage(stdout);
      return 0;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  argv[argc] = nullptr;
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = tricolor_bench::command_line(argc, argv);
  const std::string out_dir = tricolor_bench::take_out_dir(argc, argv);
  if (const int status = parse_flags(argc, argv); status >= 0) return status;
  if (g_config.go_peer.empty()) g_config.go_peer = map_bench::default_go_peer();

  // Our reps and min-time become Google Benchmark's defaults (its own flags,
  // given explicitly, still win: they come later in argv).
  std::vector<std::string> gb_args = {argv[0]};
  gb_args.push_back("--benchmark_repetitions=" + std::to_string(g_config.reps));
  gb_args.push_back("--benchmark_min_time=" + std::to_string(g_config.min_time));
  if (g_config.reps > 1) gb_args.emplace_back("--benchmark_report_aggregates_only=true");
  for (int i = 1; i < argc; ++i) gb_args.emplace_back(argv[i]);
  std::vector<char*> gb_argv;
  for (auto& a : gb_args) gb_argv.push_back(a.data());
  gb_argv.push_back(nullptr);
  int gb_argc = static_cast<int>(gb_args.size());
  benchmark::Initialize(&gb_argc, gb_argv.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, gb_argv.data())) return 2;

#if !TRICOLOR_BENCH_HAVE_ABSL
  if (wants("absl")) std::printf("note: absl skipped: libabsl-dev was not found when the build was configured\n");
#endif

  std::optional<tricolor::Runtime> runtime;
  try {
    runtime.emplace();  // reads GOGC, GOMEMLIMIT, GODEBUG, ...
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_map_throughput: %s\n", error.what());
    return 2;
  }
  g_default_gc_percent = runtime->options().gc_percent;
  std::printf("map_throughput: sizes");
  for (uint64_t n : g_config.sizes) std::printf(" %" PRIu64, n);
  std::printf("; median of %" PRIu64 " repetitions of >= %.2f s; tricolor_gc: GOGC=%d, %" PRIu64
              " MiB live tree, churn %.0f MB/s\n",
              g_config.reps, g_config.min_time, g_default_gc_percent, g_config.live_mb, g_config.churn_mb_per_s);

  RecordingReporter reporter;
  tricolor_bench::Record record{"map_throughput", command, {}};
  {
    tricolor::MutatorScope mutator(*runtime);
    g_runtime = &*runtime;
    g_mutator = &mutator;
    TricolorImpl tricolor(false);
    TricolorImpl tricolor_gc(true);
    HashMapImpl<std::unordered_map<uint64_t, uint64_t>> std_impl;
    g_tricolor = &tricolor;
    g_tricolor_gc = &tricolor_gc;
    g_std = &std_impl;
#if TRICOLOR_BENCH_HAVE_ABSL
    HashMapImpl<absl::flat_hash_map<uint64_t, uint64_t>> absl_impl;
    g_absl = &absl_impl;
#endif
    g_full_maps.drop_all = [&] {
      tricolor.drop_full();
      tricolor_gc.drop_full();
      std_impl.drop_full();
#if TRICOLOR_BENCH_HAVE_ABSL
      absl_impl.drop_full();
#endif
    };
    if (wants("tricolor_gc") && g_config.live_mb > 0) {
      const int gc_percent = runtime->set_gc_percent(tricolor::kGcPercentOff);
      g_live.emplace();
      g_live->build(mutator, g_config.live_mb);
      runtime->set_gc_percent(gc_percent);
      runtime->collect();  // the pacer's goal from the real live heap
      std::printf("live tree: %" PRIu64 " nodes, %.1f MiB, built in %.2f s\n", g_live->nodes,
                  g_live->bytes / 1048576, g_live->build_s);
    }
    register_benchmarks();
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    g_full_maps.drop_all();
    g_live.reset();
    g_tricolor = g_tricolor_gc = nullptr;
    g_std = nullptr;
#if TRICOLOR_BENCH_HAVE_ABSL
    g_absl = nullptr;
#endif
    g_mutator = nullptr;
  }

  for (const char* impl : {"tricolor", "tricolor_gc", "std", "absl"}) {
    for (uint64_t n : g_config.sizes) {
      for (Op op : kOps) {
        const auto found = reporter.results.find(std::string(impl) + "/" + op_name(op) + "/" + std::to_string(n));
        if (found == reporter.results.end()) continue;  // filtered out or not built
        set_metric(record.implementation(impl), metric_name(op, n), found->second.ns_per_op);
        if (found->second.faults_per_op >= 0)
          set_metric(record.implementation(impl), "insert_page_faults_per_op_" + std::to_string(n),
                     found->second.faults_per_op);
      }
      const auto window = g_windows.find({impl, n});
      if (window != g_windows.end() && window->second.started) {
        const tricolor::Stats& before = window->second.before;
        const tricolor::Stats& after = window->second.after;
        uint64_t cycles = after.collections - before.collections;
        if (std::string_view(impl) == "tricolor")  // the explicit ones ran between rounds, untimed
          cycles -= after.explicit_collections - before.explicit_collections;
        set_metric(record.implementation(impl), "collections_" + std::to_string(n), static_cast<double>(cycles));
      }
    }
  }
  {
    const tricolor::Stats stats = runtime->stats();
    for (const char* impl : {"tricolor", "tricolor_gc"}) {
      bool present = false;
      for (const auto& entry : record.implementations) present |= entry.first == impl;
      if (!present) continue;
      set_metric(record.implementation(impl), "collections", static_cast<double>(stats.collections));
      set_metric(record.implementation(impl), "explicit_collections",
                 static_cast<double>(stats.explicit_collections));
    }
  }
  const double rss = tricolor_bench::peak_rss_bytes();
  for (auto& [impl, metrics] : record.implementations) set_metric(metrics, "process_peak_rss_bytes", rss);

  if (wants("go")) {
    if (!g_config.go) {
      std::printf("go: skipped (--no-go)\n");
    } else {
      std::string sizes;
      for (uint64_t n : g_config.sizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(n);
      char min_time[32];
      std::snprintf(min_time, sizeof min_time, "%gs", g_config.min_time);
      Metrics go;
      std::string why;
      bool missing = false;
      std::printf("== go peer: %s -mode throughput -sizes %s -reps %" PRIu64 " -min-time %s ==\n",
                  g_config.go_peer.c_str(), sizes.c_str(), g_config.reps, min_time);
      if (map_bench::run_go_peer(g_config.go_peer,
                                 {"-mode", "throughput", "-sizes", sizes, "-reps", std::to_string(g_config.reps),
                                  "-min-time", min_time},
                                 go, why, missing)) {
        record.implementation("go") = std::move(go);
      } else if (missing) {
        std::printf("go: skipped: %s\n", why.c_str());
      } else {
        std::fprintf(stderr, "bench_map_throughput: %s\n", why.c_str());
        return 1;
      }
    }
  }

  try {
    std::printf("wrote %s\n", tricolor_bench::write_record(record, out_dir).c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_map_throughput: %s\n", error.what());
    return 1;
  }
  return 0;
}
