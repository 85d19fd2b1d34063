// alloc_bench.cpp — small-object allocation throughput: tricolor's make<T>
// against glibc malloc/free and mimalloc's mi_new/mi_free, in one run.
//
// Each benchmark allocates one object of N = 16, 32, 64 or 128 bytes per
// iteration (a value-initialised T, so every implementation hands out zeroed
// memory, as make<T> does) and reports items/s (wall-clock based).
//
//   tricolor/NB        make<Blob<N>> on the benchmark thread's MutatorScope; the
//                      object is dropped at once and the collector recycles it.
//   glibc_new_delete/NB, mimalloc/NB
//                      allocate, construct, and free the object allocated K
//                      iterations earlier (a ring buffer of the last K objects).
//
// Why a ring of K objects: tricolor does not reuse a slot until the next
// collection, and with nothing live a collection starts each time the heap
// reaches its minimum goal (TRICOLOR_MIN_HEAP, 4 MiB by default). So every
// object occupies memory for about K = min_heap / slot_bytes allocations and
// the allocator streams through min_heap bytes of memory between reuses. The
// ring gives malloc/free the same object lifetime and the same memory
// footprint; freeing each object at once instead would let malloc hand back
// the same hot cache line every time, a pattern no collector can have.
// K is recorded in alloc.json as live_objects_NB.
//
// "glibc_new_delete" calls glibc's own malloc/free, looked up in libc.so.6
// with dlsym: libmimalloc.so (which mimalloc_dep links) interposes malloc,
// free, operator new/delete and even __libc_malloc for the whole process, so
// a plain `new` here would measure mimalloc a second time. The program says
// at start-up what plain `new` resolves to.
//
// Besides Google Benchmark's console output the run writes OUT/alloc.json
// (record.h): implementations tricolor, glibc_new_delete and mimalloc with
// ops_per_s_NB; tricolor adds collections_NB and the pause and
// time-to-safepoint percentiles of the cycles that ran during each size's
// benchmark, and whole-run collections / pause_*_ns / peak_rss_bytes.
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <unistd.h>
#include <mimalloc.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <tricolor/tricolor.h>
#include <vector>

#include "harness.h"
#include "record.h"

namespace {

using tricolor_bench::Metrics;
using tricolor_bench::set_metric;

constexpr size_t kSizes[] = {16, 32, 64, 128};

template <size_t N>
struct Blob {
  static constexpr bool kHasNoPointers = true;  // never scanned
  std::byte bytes[N];
};
static_assert(sizeof(Blob<16>) == 16 && sizeof(Blob<128>) == 128);

tricolor::Runtime* g_runtime = nullptr;
tricolor::Mutator* g_mutator = nullptr;

// ------------------------------------------------------------ tricolor -----

// The collector statistics around all runs of one size's benchmark (Google
// Benchmark calls the function several times while it sizes the iterations).
struct StatsWindow {
  bool started = false;
  tricolor::Stats before;
  tricolor::Stats after;
};
std::map<size_t, StatsWindow> g_windows;

template <size_t N>
void bm_tricolor(benchmark::State& state) {
  StatsWindow& window = g_windows[N];
  if (!window.started) {
    window.before = g_runtime->stats();
    window.started = true;
  }
  tricolor::Mutator& m = *g_mutator;
  for (auto _ : state) {
    Blob<N>* object = tricolor::make<Blob<N>>(m);
    benchmark::DoNotOptimize(object);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  window.after = g_runtime->stats();
}

// Percentiles of the values recorded between two snapshots of a histogram,
// computed from the bucket counts as Histogram::percentile does.
struct HistogramDelta {
  uint64_t count = 0;
  uint64_t p50 = 0, p99 = 0, max = 0;
};
HistogramDelta delta_of(const tricolor::Histogram& before, const tricolor::Histogram& after) {
  HistogramDelta delta;
  std::vector<uint64_t> counts(tricolor::Histogram::kBuckets);
  int highest = -1;
  for (int b = 0; b < tricolor::Histogram::kBuckets; ++b) {
    counts[b] = after.bucket_count(b) - before.bucket_count(b);
    delta.count += counts[b];
    if (counts[b] != 0) highest = b;
  }
  if (delta.count == 0) return delta;
  auto percentile = [&](double fraction) {
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(fraction * delta.count)));
    uint64_t seen = 0;
    for (int b = 0; b < tricolor::Histogram::kBuckets; ++b) {
      seen += counts[b];
      if (seen >= rank) return std::min(tricolor::Histogram::bucket_upper(b), after.max());
    }
    return after.max();
  };
  delta.p50 = percentile(0.50);
  delta.p99 = percentile(0.99);
  // Exact if the maximum was set in this window, else its bucket's upper edge.
  delta.max = after.max() > before.max() ? after.max()
                                         : std::min(tricolor::Histogram::bucket_upper(highest), after.max());
  return delta;
}

// ------------------------------------------------------ malloc / free ------

using MallocFn = void* (*)(size_t);
using FreeFn = void (*)(void*);
MallocFn g_glibc_malloc = nullptr;
FreeFn g_glibc_free = nullptr;

struct GlibcAllocator {
  static void* allocate(size_t bytes) {
    void* p = g_glibc_malloc(bytes);
    if (p == nullptr) throw std::bad_alloc();  // what operator new adds to malloc
    return p;
  }
  static void release(void* p) { g_glibc_free(p); }
};

struct MimallocAllocator {
  static void* allocate(size_t bytes) { return mi_new(bytes); }
  static void release(void* p) { mi_free(p); }
};

// The objects tricolor lets accumulate between two collections at this size.
template <size_t N>
size_t ring_slots() {
  const size_t slot_bytes = tricolor::gc::kSlotBytesOf<Blob<N>>;
  return std::max<size_t>(1, static_cast<size_t>(g_runtime->options().min_heap_bytes) / slot_bytes);
}

template <size_t N, class Allocator>
void bm_ring(benchmark::State& state) {
  // Not the managed heap: the collector need not wait for this thread (a
  // handshake requested here was answered at tricolor's next benchmark,
  // seconds later, and counted in its time to safepoint: 4.8 s at 32 B).
  tricolor::BlockingRegion blocked(*g_mutator);
  const size_t k = ring_slots<N>();
  std::vector<Blob<N>*> ring(k);
  for (auto& slot : ring) slot = new (Allocator::allocate(N)) Blob<N>();  // steady state from the start
  size_t next = 0;
  for (auto _ : state) {
    Blob<N>* object = new (Allocator::allocate(N)) Blob<N>();  // value-initialised: zeroed
    benchmark::DoNotOptimize(object);
    Allocator::release(ring[next]);
    ring[next] = object;
    if (++next == k) next = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["live_objects"] = static_cast<double>(k);
  for (Blob<N>* object : ring) Allocator::release(object);
}

// -------------------------------------------------------------- reporting --

// Passes everything to the console reporter and keeps items/s per benchmark
// (the median aggregate if --benchmark_repetitions is used).
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  struct Result {
    double items_per_second = 0;
    double live_objects = 0;
    bool from_median = false;
  };
  std::map<std::string, Result> results;  // by benchmark name, e.g. "mimalloc/64B"

  explicit RecordingReporter(OutputOptions options) : ConsoleReporter(options) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Aggregate && !median) continue;
      const auto items = run.counters.find("items_per_second");
      if (items == run.counters.end()) continue;
      Result& result = results[run.run_name.function_name];
      if (result.from_median && !median) continue;
      result.items_per_second = items->second.value;
      const auto live = run.counters.find("live_objects");
      if (live != run.counters.end()) result.live_objects = live->second.value;
      result.from_median = median;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

template <size_t N>
void register_size() {
  const std::string size = std::to_string(N) + "B";
  benchmark::RegisterBenchmark(("tricolor/" + size).c_str(), bm_tricolor<N>)->UseRealTime();
  benchmark::RegisterBenchmark(("glibc_new_delete/" + size).c_str(), bm_ring<N, GlibcAllocator>)->UseRealTime();
  benchmark::RegisterBenchmark(("mimalloc/" + size).c_str(), bm_ring<N, MimallocAllocator>)->UseRealTime();
}

// Google Benchmark applies --benchmark_color and --benchmark_counters_tabular
// only to its own default reporter, so a custom reporter reads them itself
// (same meaning: color "auto" = a terminal that is not dumb).
benchmark::ConsoleReporter::OutputOptions console_options(int argc, char** argv) {
  std::string color = "auto";
  bool tabular = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--benchmark_color=")) color = arg.substr(18);
    if (arg.starts_with("--benchmark_counters_tabular=")) {
      const std::string_view value = arg.substr(29);
      tabular = value == "true" || value == "yes" || value == "1";
    }
  }
  bool use_color = color == "true" || color == "yes" || color == "1";
  if (color == "auto") {
    const char* term = std::getenv("TERM");
    use_color = isatty(STDOUT_FILENO) && term != nullptr && std::string_view(term) != "dumb";
  }
  int options = benchmark::ConsoleReporter::OO_None;
  if (use_color) options |= benchmark::ConsoleReporter::OO_Color;
  if (tabular) options |= benchmark::ConsoleReporter::OO_Tabular;
  return static_cast<benchmark::ConsoleReporter::OutputOptions>(options);
}

bool resolve_glibc() {
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  if (libc == nullptr) return false;
  g_glibc_malloc = reinterpret_cast<MallocFn>(dlsym(libc, "malloc"));
  g_glibc_free = reinterpret_cast<FreeFn>(dlsym(libc, "free"));
  if (g_glibc_malloc == nullptr || g_glibc_free == nullptr) return false;
  void* probe = g_glibc_malloc(16);
  const bool is_glibc = probe != nullptr && !mi_is_in_heap_region(probe);
  g_glibc_free(probe);
  return is_glibc;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = tricolor_bench::command_line(argc, argv);
  const std::string out_dir = tricolor_bench::take_out_dir(argc, argv);
  const auto output_options = console_options(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  if (!resolve_glibc()) {
    std::fprintf(stderr, "bench_alloc: cannot reach glibc's own malloc/free through dlsym\n");
    return 1;
  }
  {
    void* probe = ::operator new(16);
    std::printf("note: plain operator new in this process is %s; glibc_new_delete calls libc.so.6's malloc/free\n",
                mi_is_in_heap_region(probe) ? "mimalloc (libmimalloc.so interposes it)" : "glibc");
    ::operator delete(probe);
  }

  std::optional<tricolor::Runtime> runtime;
  try {
    runtime.emplace();  // the one Runtime of the process; reads GOGC, GOMEMLIMIT, ...
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_alloc: %s\n", error.what());
    return 2;
  }
  RecordingReporter reporter(output_options);
  {
    tricolor::MutatorScope mutator(*runtime);  // the benchmarks run on this thread
    g_runtime = &*runtime;
    g_mutator = &mutator;
    register_size<16>();
    register_size<32>();
    register_size<64>();
    register_size<128>();
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    g_mutator = nullptr;
  }

  tricolor_bench::Record record{"alloc", command, {}};
  for (const char* impl : {"tricolor", "glibc_new_delete", "mimalloc"}) {
    for (size_t n : kSizes) {
      const auto found = reporter.results.find(std::string(impl) + "/" + std::to_string(n) + "B");
      if (found == reporter.results.end()) continue;  // filtered out
      Metrics& metrics = record.implementation(impl);
      std::string suffix = "_";  // appended piecewise: GCC 12 warns falsely (-Wrestrict) on "_" + string
      suffix += std::to_string(n);
      suffix += 'B';
      set_metric(metrics, "ops_per_s" + suffix, found->second.items_per_second);
      if (found->second.live_objects > 0) set_metric(metrics, "live_objects" + suffix, found->second.live_objects);
      const auto window = g_windows.find(n);
      if (std::string(impl) == "tricolor" && window != g_windows.end() && window->second.started) {
        const tricolor::Stats& before = window->second.before;
        const tricolor::Stats& after = window->second.after;
        const HistogramDelta pauses = delta_of(before.pause_ns, after.pause_ns);
        const HistogramDelta ttsp = delta_of(before.ttsp_ns, after.ttsp_ns);
        set_metric(metrics, "collections" + suffix, static_cast<double>(after.collections - before.collections));
        set_metric(metrics, "pause_p50_ns" + suffix, static_cast<double>(pauses.p50));
        set_metric(metrics, "pause_p99_ns" + suffix, static_cast<double>(pauses.p99));
        set_metric(metrics, "pause_max_ns" + suffix, static_cast<double>(pauses.max));
        set_metric(metrics, "ttsp_max_ns" + suffix, static_cast<double>(ttsp.max));
      }
    }
  }
  if (!g_windows.empty()) tricolor_bench::add_gc_metrics(record.implementation("tricolor"), runtime->stats());
  const double rss = tricolor_bench::peak_rss_bytes();  // the whole process: all three implementations
  for (auto& [impl, metrics] : record.implementations) set_metric(metrics, "process_peak_rss_bytes", rss);
  try {
    std::printf("wrote %s\n", tricolor_bench::write_record(record, out_dir).c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_alloc: %s\n", error.what());
    return 1;
  }
  return 0;
}
