// iter_safepoint.cpp — time-to-safepoint of collections requested while one
// mutator iterates over, or clears and refills, a 10 M-entry managed map.
//
// One mutator thread (the main one) builds a Map<uint64_t, uint64_t> of
// --entries entries (default 10 M; keys mix(i), values i, reserve()d first)
// and then, for --seconds each (default 8), runs two variants:
//   iterate  full passes over the map, `for (auto [k, v] : map->entries(m))
//            sum += v;` — the loop body does not poll: the iterator's own
//            polls (every Map::kIterationPollBuckets buckets) are what the
//            collector waits for;
//   clear    map->clear(m) (O(1): the tables become garbage), then a refill
//            of keys 0..--refill-entries-1 (default 1 M, so that a variant of
//            a few seconds clears many times) with no reserve (so the growth
//            path, evacuation and table allocation are exercised), polling
//            the safepoint after each insert as an interpreter's loop
//            back-edge would. The first clear drops the 10 M-entry tables.
// Meanwhile a second thread, not registered as a mutator (Runtime::collect
// accepts any thread), calls runtime.collect() — which waits for that cycle
// to end — then sleeps --interval-ms (default 20), over and over.
//
// What is reported per variant, from the collector's stats (the difference
// of the histograms between the variant's start and end): ttsp_*: the
// time-to-safepoint histogram (gc/stats.h ttsp_ns: stop requested → every
// mutator stopped for a global stop; handshake requested → this mutator
// started it, for the concurrent collector's per-thread handshakes) —
// count, p50, p99 (within the histogram's 6.25 % buckets) and max (exact
// when set in the window); pause_p99/max_ns likewise; collections.
// Also: the map's growth work during the variant (growing_at_start, growths,
// same_size_growths, evacuated_by_workers/mutators): background evacuation
// competes with the iterating thread for the cores.
// Modes (--modes, default concurrent,stw): each in a fresh Runtime in this
// process, one after the other. concurrent: the default collector, which
// never stops the world — its TTSPs are per-thread handshakes; stw:
// TRICOLOR_MODE=stw, where each collection is one global stop and its TTSP
// is the time to park the iterating thread. Record implementations:
// iterate, clear (concurrent), iterate_stw, clear_stw.
// Target we report against: max TTSP <= 100 µs while iterating.
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <tricolor/tricolor.h>
#include <vector>

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
  uint64_t refill_entries = 1'000'000;
  double seconds = 8;
  uint64_t interval_ms = 20;
  std::vector<std::string> modes = {"concurrent", "stw"};
  std::vector<std::string> variants = {"iterate", "clear"};
};
Config g_config;

[[noreturn]] void wrong(const char* what) {
  std::fprintf(stderr, "bench_iter_safepoint: CHECK FAILED: %s\n", what);
  std::exit(1);
}

// The second thread: a collection, then a sleep, until stopped.
class Requester {
 public:
  explicit Requester(tricolor::Runtime& rt) : rt_(rt), thread_([this] { run(); }) {}
  ~Requester() { stop(); }
  uint64_t stop() {
    if (thread_.joinable()) {
      stop_.store(true, std::memory_order_relaxed);
      thread_.join();
    }
    return requests_;
  }

 private:
  void run() {
    while (!stop_.load(std::memory_order_relaxed)) {
      rt_.collect();
      ++requests_;
      std::this_thread::sleep_for(std::chrono::milliseconds(g_config.interval_ms));
    }
  }
  tricolor::Runtime& rt_;
  std::atomic<bool> stop_{false};
  uint64_t requests_ = 0;
  std::thread thread_;
};

void add_window_metrics(Metrics& metrics, const tricolor::Stats& before, const tricolor::Stats& after) {
  const map_bench::Window ttsp{after.ttsp_ns, before.ttsp_ns};
  const map_bench::Window pause{after.pause_ns, before.pause_ns};
  auto set = [&](const char* name, double value) { set_metric(metrics, name, value); };
  set("collections", static_cast<double>(after.collections - before.collections));
  set("ttsp_count", static_cast<double>(ttsp.count()));
  set("ttsp_p50_ns", static_cast<double>(ttsp.percentile(0.50)));
  set("ttsp_p99_ns", static_cast<double>(ttsp.percentile(0.99)));
  set("ttsp_max_ns", static_cast<double>(ttsp.max()));
  set("pause_p99_ns", static_cast<double>(pause.percentile(0.99)));
  set("pause_max_ns", static_cast<double>(pause.max()));
  set("global_pauses", static_cast<double>(after.global_pause_ns.count() - before.global_pause_ns.count()));
}

void run_mode(const std::string& mode, tricolor_bench::Record& record) {
  tricolor::Options options = tricolor::Options::from_env();
  options.concurrent = mode == "concurrent";
  tricolor::Runtime rt(options);
  tricolor::MutatorScope m(rt);
  const uint64_t n = g_config.entries;
  const uint64_t expected = n * (n - 1) / 2;
  tricolor::Persistent<IntMap> map(tricolor::make<IntMap>(m));
  {
    const int64_t t = now_ns();
    map->reserve(m, n);
    for (uint64_t i = 0; i < n; ++i) {
      map->insert_or_assign(m, key_of(i), i);
      m.safepoint();
    }
    rt.collect();
    std::printf("[%s] built %" PRIu64 " entries (2^%u buckets) in %.2f s\n", mode.c_str(), n,
                static_cast<unsigned>(map->log2_buckets()), static_cast<double>(now_ns() - t) * 1e-9);
  }
  const std::string suffix = mode == "concurrent" ? "" : "_" + mode;
  for (const std::string& variant : g_config.variants) {
    Metrics& metrics = record.implementation(variant + suffix);
    const bool growing_at_start = map->growing();
    const tricolor::MapStats map_before = tricolor::map_stats();
    const tricolor::Stats before = rt.stats();
    const int64_t start = now_ns();
    const int64_t deadline = start + static_cast<int64_t>(g_config.seconds * 1e9);
    uint64_t rounds = 0;
    uint64_t requests = 0;
    {
      Requester requester(rt);
      if (variant == "iterate") {
        while (now_ns() < deadline) {
          uint64_t sum = 0;
          uint64_t count = 0;
          for (auto [key, value] : map->entries(m)) {
            sum += value;
            ++count;
          }
          if (count != n || sum != expected) wrong("a pass saw the wrong entries");
          ++rounds;
        }
      } else {
        while (now_ns() < deadline) {
          map->clear(m);
          if (map->size() != 0) wrong("clear left entries");
          const uint64_t refill = g_config.refill_entries;
          for (uint64_t i = 0; i < refill; ++i) {
            map->insert_or_assign(m, key_of(i), i);
            m.safepoint();
          }
          if (map->size() != refill) wrong("a refill lost entries");
          ++rounds;
        }
      }
      // This thread waits for the requester's last cycle: blocked meanwhile.
      tricolor::BlockingRegion blocked(m);
      requests = requester.stop();
    }
    const double seconds = static_cast<double>(now_ns() - start) * 1e-9;
    const tricolor::Stats after = rt.stats();
    const tricolor::MapStats map_after = tricolor::map_stats();
    set_metric(metrics, "wall_s", seconds);
    set_metric(metrics, variant == "iterate" ? "passes" : "refills", static_cast<double>(rounds));
    if (variant == "iterate")
      set_metric(metrics, "iterate_ns_per_entry", seconds * 1e9 / (static_cast<double>(rounds) * static_cast<double>(n)));
    set_metric(metrics, "collect_requests", static_cast<double>(requests));
    add_window_metrics(metrics, before, after);
    set_metric(metrics, "iterator_polls", static_cast<double>(map_after.iterator_polls - map_before.iterator_polls));
    // Growth work that ran during the variant (background evacuation competes
    // for the two cores with the iterating thread).
    set_metric(metrics, "growing_at_start", growing_at_start ? 1 : 0);
    set_metric(metrics, "growths", static_cast<double>(map_after.growths - map_before.growths));
    set_metric(metrics, "same_size_growths",
               static_cast<double>(map_after.same_size_growths - map_before.same_size_growths));
    set_metric(metrics, "evacuated_by_workers",
               static_cast<double>(map_after.evacuated_by_workers - map_before.evacuated_by_workers));
    set_metric(metrics, "evacuated_by_mutators",
               static_cast<double>(map_after.evacuated_by_mutators - map_before.evacuated_by_mutators));
    set_metric(metrics, "entries", static_cast<double>(n));
    if (variant == "clear") set_metric(metrics, "refill_entries", static_cast<double>(g_config.refill_entries));
    set_metric(metrics, "peak_rss_bytes", tricolor_bench::peak_rss_bytes());
    std::printf("[%s] %-7s %6.2f s, %4" PRIu64 " %s, %4.0f collections, TTSP: %5.0f handshakes/stops, p50 %.1f us, "
                "p99 %.1f us, max %.1f us; pause max %.1f us; map growing at start: %s, %.0f + %.0f same-size "
                "growths, %.0f old buckets evacuated by workers\n",
                mode.c_str(), variant.c_str(), seconds, rounds, variant == "iterate" ? "passes " : "refills",
                tricolor_bench::get_metric(metrics, "collections"), tricolor_bench::get_metric(metrics, "ttsp_count"),
                tricolor_bench::get_metric(metrics, "ttsp_p50_ns") / 1e3,
                tricolor_bench::get_metric(metrics, "ttsp_p99_ns") / 1e3,
                tricolor_bench::get_metric(metrics, "ttsp_max_ns") / 1e3,
                tricolor_bench::get_metric(metrics, "pause_max_ns") / 1e3, growing_at_start ? "yes" : "no",
                tricolor_bench::get_metric(metrics, "growths"), tricolor_bench::get_metric(metrics, "same_size_growths"),
                tricolor_bench::get_metric(metrics, "evacuated_by_workers"));
  }
}

void usage(FILE* to) {
  std::fprintf(to,
               "usage: bench_iter_safepoint [--entries N] [--refill-entries N] [--seconds S] [--interval-ms MS]\n"
               "       [--modes LIST] [--variants LIST] [--out DIR]\n"
               "  --entries: map size (default 10000000); --seconds: per variant (default 8)\n"
               "  --refill-entries: keys inserted after each clear in the clear variant (default 1000000)\n"
               "  --interval-ms: sleep between collection requests (default 20)\n"
               "  --modes: concurrent,stw (default both); --variants: iterate,clear (default both)\n");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = tricolor_bench::command_line(argc, argv);
  const std::string out_dir = tricolor_bench::take_out_dir(argc, argv);
  Config& c = g_config;
  for (int i = 1; i < argc; ++i) {
    std::string value;
    auto bad = [&](const char* flag, const char* expects) {
      std::fprintf(stderr, "bench_iter_safepoint: %s expects %s, got '%s'\n", flag, expects, value.c_str());
      return 2;
    };
    if (map_bench::take_flag("--entries", argc, argv, i, value)) {
      if (!map_bench::parse_u64(value, 1, uint64_t{1} << 31, c.entries)) return bad("--entries", "an integer >= 1");
    } else if (map_bench::take_flag("--refill-entries", argc, argv, i, value)) {
      if (!map_bench::parse_u64(value, 1, uint64_t{1} << 31, c.refill_entries))
        return bad("--refill-entries", "an integer >= 1");
    } else if (map_bench::take_flag("--seconds", argc, argv, i, value)) {
      if (!map_bench::parse_seconds(value, c.seconds)) return bad("--seconds", "a number of seconds > 0");
    } else if (map_bench::take_flag("--interval-ms", argc, argv, i, value)) {
      if (!map_bench::parse_u64(value, 0, 100000, c.interval_ms)) return bad("--interval-ms", "an integer");
    } else if (map_bench::take_flag("--modes", argc, argv, i, value)) {
      c.modes = map_bench::split_list(value);
      for (const auto& mode : c.modes)
        if (mode != "concurrent" && mode != "stw") return bad("--modes", "concurrent and/or stw");
    } else if (map_bench::take_flag("--variants", argc, argv, i, value)) {
      c.variants = map_bench::split_list(value);
      for (const auto& variant : c.variants)
        if (variant != "iterate" && variant != "clear") return bad("--variants", "iterate and/or clear");
    } else if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "bench_iter_safepoint: unknown argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("iter_safepoint: %" PRIu64 " entries, %.1f s per variant, a collection requested every ~%" PRIu64
              " ms by an unregistered thread\n",
              c.entries, c.seconds, c.interval_ms);
  tricolor_bench::Record record{"iter_safepoint", command, {}};
  try {
    for (const std::string& mode : c.modes) run_mode(mode, record);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_iter_safepoint: %s\n", error.what());
    return 2;
  }
  try {
    std::printf("wrote %s\n", tricolor_bench::write_record(record, out_dir).c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_iter_safepoint: %s\n", error.what());
    return 1;
  }
  return 0;
}
