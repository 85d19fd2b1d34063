// boehm_common.h — the program around the Boehm GC (libgc 8.2, C API) peers of
// bench/gcbench.cpp and bench/binarytrees.cpp: the command line, the
// collector's set-up per implementation, the timed region with its pause
// recording, and the result line. Each program keeps its own algorithm, node
// layout and checks; its main() is `return boehm_peer::run(argc, argv,
// program, body);`.
//
// Invariant: a run prints its title first and, only if every correctness check
// passed, exactly one "result: impl=IMPL ..." line last; wall_s, collections
// and every pause metric of that line cover the same interval, the program's
// TimedRegion (which it places exactly where its tricolor twin starts and
// stops its Stopwatch).
//
// Command line (bench/harness.h's child mode, without the driver):
//   PROGRAM [FLAG VALUE]... --impl IMPL        (a flag: "--flag V" or "--flag=V")
//   boehm              libgc as shipped, with parallel marking: GC_MARKERS is
//                      taken from the environment, and set to 2 (setenv, before
//                      GC_INIT) when unset. libgc 8.2 starts its marker threads
//                      only when the client creates its first thread, which
//                      these single-threaded programs never do, so the run
//                      starts them itself with GC_start_mark_threads().
//   boehm_incremental  the same, plus GC_enable_incremental() after GC_INIT.
// Exit status: 0 with a result line; 1 if a correctness check failed (no
// result line); 2 for a bad command line, or a collector that cannot be set up
// as the implementation asks.
//
// Result line, after any human lines:
//   result: impl=IMPL wall_s=S ops_per_s=R collections=N pause_count=N
//     pause_p50_ns=T pause_p99_ns=T pause_p999_ns=T pause_max_ns=T
//     pause_total_ns=T peak_rss_bytes=B
// collections: GC_get_gc_no() after minus before the timed region.
// Percentiles: nearest rank over the recorded pauses (the smallest recorded
// pause d such that at least p of all pauses are <= d); 0 when there were none.
// peak_rss_bytes: getrusage ru_maxrss * 1024 at the end of the run.
//
// What a "pause" is here: one stop of the world by the collector, timed on
// CLOCK_MONOTONIC from GC_EVENT_PRE_STOP_WORLD (just before libgc stops the
// other mutator threads) to GC_EVENT_POST_START_WORLD (just after it restarted
// them). In libgc 8.2.2 these events come only from GC_stopped_mark(), always
// as a pair, on the thread that collects (here the one mutator thread; the
// parallel markers never send them) with the allocation lock held, so stops
// never overlap. A stop holds the root scan and the marking from the roots
// (with the parallel markers) — or, in incremental mode, as much of it as fits
// the time limit before libgc abandons the stop and restarts the world. Each
// stop is one pause, whether it completed a mark or was abandoned: an
// incremental collection may stop the world several times. Not pauses, though
// they also keep this single mutator from running: the work libgc does with
// the world running, i.e. the sweep (lazy, in later allocations),
// GC_finish_collection's set-up after the restart, and in incremental mode the
// mark steps done inside allocations between stops.
#pragma once

// GC_THREADS declares GC_start_mark_threads() and GC_get_parallel(); the
// programs create no threads of their own, so pthread_create and friends are
// not redirected to libgc's wrappers (GC_NO_THREAD_REDIRECTS).
#ifndef GC_THREADS
#define GC_THREADS
#endif
#ifndef GC_NO_THREAD_REDIRECTS
#define GC_NO_THREAD_REDIRECTS
#endif
#include <gc.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace boehm_peer {

// What one run measured: as tricolor_bench::Measured (bench/harness.h).
struct Measured {
  double seconds = 0;   // wall time of the timed region: wall_s
  long operations = 0;  // work done in it, the "ops" of ops_per_s
};

// A flag of the program that takes a value (as tricolor_bench::Flag).
struct Flag {
  std::string name;     // "--depth"
  std::string metavar;  // "N"
  std::string help;     // "maximum tree depth (default 21)"
  std::string expects;  // "an integer in 0..30", for the error on a bad value
  std::function<bool(const std::string& value)> parse;  // stores the value; false if invalid
};

struct Program {
  std::string name;  // "gcbench": the executable is bench_boehm_NAME
  std::vector<Flag> flags;
  // The first line of the output, e.g. "binary-trees, depth 21, ..., implementation IMPL".
  std::function<std::string(const std::string& impl)> title;
};

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  double milliseconds() const { return seconds() * 1e3; }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

namespace detail {

inline std::string g_executable;  // "bench_boehm_NAME", the prefix of every message
inline bool g_checks_failed = false;

inline int64_t monotonic_ns() {  // allocation-free and async-signal-safe
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

// The stops of the world of the timed region, written by the collection
// event callback. libgc calls it with its allocation lock held (so calls are
// serialised), but possibly from any thread that collects: every field is an
// atomic, and a duration is stored before the count that publishes it. The
// callback never allocates: the durations go to a buffer allocated before the
// run (by operator new, outside the heap libgc scans, and untouched until
// written).
struct PauseLog {
  static constexpr size_t kCapacity = size_t{1} << 20;  // far beyond any run here
  std::unique_ptr<int64_t[]> durations{new int64_t[kCapacity]};
  std::atomic<bool> armed{false};
  std::atomic<int64_t> stop_began_ns{-1};  // -1: the world is not stopped (or not armed)
  std::atomic<bool> mark_ended{false};     // GC_EVENT_MARK_END inside the current stop
  std::atomic<uint64_t> count{0};          // every stop, also beyond kCapacity
  std::atomic<uint64_t> completed{0};      // stops that finished a mark (the rest were abandoned)
  std::atomic<int64_t> total_ns{0};
  std::atomic<int64_t> max_ns{0};
};
inline PauseLog g_pauses;

inline void GC_CALLBACK on_collection_event(GC_EventType event) {
  PauseLog& log = g_pauses;
  switch (event) {
    case GC_EVENT_PRE_STOP_WORLD:
      if (log.armed.load(std::memory_order_relaxed)) {
        log.mark_ended.store(false, std::memory_order_relaxed);
        log.stop_began_ns.store(monotonic_ns(), std::memory_order_relaxed);
      }
      break;
    case GC_EVENT_MARK_END:
      log.mark_ended.store(true, std::memory_order_relaxed);
      break;
    case GC_EVENT_POST_START_WORLD: {
      const int64_t began = log.stop_began_ns.exchange(-1, std::memory_order_relaxed);
      if (began < 0) break;  // the stop began before the timed region
      const int64_t duration = monotonic_ns() - began;
      const uint64_t index = log.count.load(std::memory_order_relaxed);
      if (index < PauseLog::kCapacity) log.durations[index] = duration;
      log.count.store(index + 1, std::memory_order_release);
      if (log.mark_ended.load(std::memory_order_relaxed)) log.completed.fetch_add(1, std::memory_order_relaxed);
      log.total_ns.fetch_add(duration, std::memory_order_relaxed);
      if (duration > log.max_ns.load(std::memory_order_relaxed)) log.max_ns.store(duration, std::memory_order_relaxed);
      break;
    }
    default:
      break;
  }
}

// The timed region's bounds in collections, set by TimedRegion.
struct Window {
  bool finished = false;
  GC_word gc_no_before = 0;
  GC_word gc_no_after = 0;
};
inline Window g_window;

// Nearest rank: the ceil(n * per_10000 / 10000)-th smallest of `sorted`.
inline int64_t percentile(const std::vector<int64_t>& sorted, uint64_t per_10000) {
  if (sorted.empty()) return 0;
  const uint64_t n = sorted.size();
  const uint64_t rank = std::max<uint64_t>(1, (n * per_10000 + 9999) / 10000);
  return sorted[std::min(rank, n) - 1];
}

inline void append_number(std::string& line, const char* key, double value) {
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round-trip
  line += ' ';
  line += key;
  line += '=';
  line.append(buffer, error == std::errc() ? end : buffer);
}
inline void append_number(std::string& line, const char* key, uint64_t value) {
  line += ' ';
  line += key;
  line += '=';
  line += std::to_string(value);
}

// "--NAME VALUE" (then `separate`) or "--NAME=VALUE"; `missing` if NAME is
// the last argument, with no value after it.
inline bool match_flag(const std::string& name, int argc, char** argv, int i, std::string& value, bool& separate,
                       bool& missing) {
  const std::string_view arg = argv[i];
  separate = false;
  missing = false;
  if (arg == name) {
    if (i + 1 >= argc) {
      missing = true;
      return true;
    }
    separate = true;
    value = argv[i + 1];
    return true;
  }
  if (arg.size() <= name.size() || !arg.starts_with(name) || arg[name.size()] != '=') return false;
  value = std::string(arg.substr(name.size() + 1));
  return true;
}

constexpr const char* kImplementations[] = {"boehm", "boehm_incremental"};

inline void usage(FILE* to, const Program& program) {
  std::string flags;
  std::string help;
  for (const Flag& flag : program.flags) {
    flags += " [" + flag.name + " " + flag.metavar + "]";
    help += "  " + flag.name + " " + flag.metavar + ": " + flag.help + "\n";
  }
  std::fprintf(to,
               "usage: %s%s --impl boehm|boehm_incremental\n"
               "%s"
               "  --impl boehm: Boehm GC defaults, parallel marking (GC_MARKERS, else 2)\n"
               "  --impl boehm_incremental: the same with GC_enable_incremental()\n",
               g_executable.c_str(), flags.c_str(), help.c_str());
}

// Sets up libgc for `impl`; false (after a message on stderr) if it cannot.
inline bool start_collector(const std::string& impl) {
  const char* prefix = g_executable.c_str();
  if (std::getenv("GC_MARKERS") == nullptr && setenv("GC_MARKERS", "2", 1) != 0) {
    std::fprintf(stderr, "%s: setenv GC_MARKERS: %s\n", prefix, std::strerror(errno));
    return false;
  }
  GC_INIT();
  GC_start_mark_threads();  // a no-op when GC_MARKERS=1
  const bool incremental = impl == "boehm_incremental";
  if (incremental) {
    GC_enable_incremental();
    if (!GC_is_incremental_mode()) {
      std::fprintf(stderr, "%s: libgc did not enter incremental mode (is GC_DISABLE_INCREMENTAL set?)\n", prefix);
      return false;
    }
  }
  GC_set_on_collection_event(on_collection_event);

  const unsigned version = GC_get_version();
  std::printf("Boehm GC %u.%u.%u: %d marker thread(s) (GC_MARKERS=%s), ", version >> 16, (version >> 8) & 0xff,
              version & 0xff, GC_get_parallel() + 1, std::getenv("GC_MARKERS"));
  if (incremental) {
    const bool protects = (GC_incremental_protection_needs() & GC_PROTECTS_POINTER_HEAP) != 0;
    std::printf("incremental, time limit %lu ms, dirty pages found by %s\n", GC_get_time_limit(),
                protects ? "page protection" : "the OS (soft-dirty bits)");
  } else {
    std::printf("not incremental\n");
  }
  return true;
}

}  // namespace detail

// Reports a failed correctness check: "bench_boehm_NAME: CHECK FAILED: ..." on
// stderr; the run then exits 1 without a result line.
[[gnu::format(printf, 1, 2)]] inline void check_failed(const char* format, ...) {
  std::fprintf(stderr, "%s: CHECK FAILED: ", detail::g_executable.c_str());
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  detail::g_checks_failed = true;
}

[[noreturn]] inline void out_of_memory(size_t bytes) {
  std::fprintf(stderr, "%s: out of memory allocating %zu bytes\n", detail::g_executable.c_str(), bytes);
  std::exit(1);
}

// A new T on the collected heap, scanned conservatively for pointers
// (GC_MALLOC: zero-filled, then T's aggregate initialization from `args`).
template <class T, class... Args>
T* gc_new(Args... args) {
  static_assert(std::is_trivially_destructible_v<T>, "libgc never runs destructors");
  void* memory = GC_MALLOC(sizeof(T));
  if (memory == nullptr) out_of_memory(sizeof(T));
  return new (memory) T{args...};
}

// `bytes` of zeroed memory on the collected heap that libgc never scans for
// pointers (GC_MALLOC_ATOMIC, which does not clear, then memset).
inline void* gc_new_pointer_free(size_t bytes) {
  void* memory = GC_MALLOC_ATOMIC(bytes);
  if (memory == nullptr) out_of_memory(bytes);
  std::memset(memory, 0, bytes);
  return memory;
}

// The timed region of a run: construct it where the tricolor benchmark starts
// its Stopwatch and call finish() where it reads it. Pauses that begin inside
// the region are recorded; collections are counted over it. One per run.
class TimedRegion {
 public:
  TimedRegion() {
    detail::g_window.gc_no_before = GC_get_gc_no();
    detail::g_pauses.armed.store(true, std::memory_order_relaxed);
    stopwatch_ = Stopwatch();  // last, so the set-up above is not timed
  }
  TimedRegion(const TimedRegion&) = delete;
  TimedRegion& operator=(const TimedRegion&) = delete;

  // The wall time since construction, in seconds; ends the recording.
  double finish() {
    const double seconds = stopwatch_.seconds();
    detail::g_pauses.armed.store(false, std::memory_order_relaxed);
    detail::g_window.gc_no_after = GC_get_gc_no();
    detail::g_window.finished = true;
    return seconds;
  }

 private:
  Stopwatch stopwatch_;
};

// The main() of a Boehm peer: parses the command line, sets up the
// collector, prints the title, runs `body` (which must use one TimedRegion)
// and prints the result line. Returns the exit status.
inline int run(int argc, char** argv, const Program& program, const std::function<Measured()>& body) {
  detail::g_executable = "bench_boehm_" + program.name;
  const char* prefix = detail::g_executable.c_str();
  std::string impl;
  for (int i = 1; i < argc; ++i) {
    std::string value;
    bool separate = false;
    bool missing = false;
    const Flag* flag = nullptr;
    const bool is_impl = detail::match_flag("--impl", argc, argv, i, value, separate, missing);
    for (size_t f = 0; !is_impl && flag == nullptr && f < program.flags.size(); ++f) {
      if (detail::match_flag(program.flags[f].name, argc, argv, i, value, separate, missing)) flag = &program.flags[f];
    }
    if (missing) {
      std::fprintf(stderr, "%s: %s expects a value (%s)\n", prefix, argv[i],
                   is_impl ? "boehm or boehm_incremental" : flag->expects.c_str());
      return 2;
    }
    if (is_impl) {
      impl = value;
    } else if (flag != nullptr) {
      if (!flag->parse(value)) {
        std::fprintf(stderr, "%s: %s expects %s, got '%s'\n", prefix, flag->name.c_str(), flag->expects.c_str(),
                     value.c_str());
        return 2;
      }
    } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      detail::usage(stdout, program);
      return 0;
    } else {
      std::fprintf(stderr, "%s: unknown argument '%s'\n", prefix, argv[i]);
      detail::usage(stderr, program);
      return 2;
    }
    if (separate) ++i;
  }
  if (impl.empty()) {
    std::fprintf(stderr, "%s: --impl is required (boehm or boehm_incremental)\n", prefix);
    detail::usage(stderr, program);
    return 2;
  }
  if (std::find(std::begin(detail::kImplementations), std::end(detail::kImplementations), impl) ==
      std::end(detail::kImplementations)) {
    std::fprintf(stderr, "%s: unknown implementation '%s' (accepted: boehm, boehm_incremental)\n", prefix,
                 impl.c_str());
    return 2;
  }

  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("%s\n", program.title(impl).c_str());
  if (!detail::start_collector(impl)) return 2;

  const Measured measured = body();

  if (!detail::g_window.finished) {
    std::fprintf(stderr, "%s: internal error: the run never finished its TimedRegion\n", prefix);
    return 1;
  }
  if (detail::g_checks_failed) {
    std::fprintf(stderr, "%s: %s FAILED its correctness checks\n", prefix, impl.c_str());
    return 1;
  }
  detail::PauseLog& log = detail::g_pauses;
  const uint64_t count = log.count.load(std::memory_order_acquire);
  const uint64_t kept = std::min<uint64_t>(count, detail::PauseLog::kCapacity);
  std::vector<int64_t> sorted(log.durations.get(), log.durations.get() + kept);
  std::sort(sorted.begin(), sorted.end());
  if (kept < count) {
    std::fprintf(stderr, "%s: warning: %llu pauses, percentiles over the first %llu only\n", prefix,
                 static_cast<unsigned long long>(count), static_cast<unsigned long long>(kept));
  }
  const uint64_t completed = log.completed.load(std::memory_order_relaxed);
  std::printf("%llu stops of the world: %llu completed a mark, %llu abandoned at the time limit\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(completed),
              static_cast<unsigned long long>(count - completed));

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::string line = "result: impl=" + impl;
  detail::append_number(line, "wall_s", measured.seconds);
  detail::append_number(line, "ops_per_s", static_cast<double>(measured.operations) / measured.seconds);
  detail::append_number(line, "collections",
                        static_cast<uint64_t>(detail::g_window.gc_no_after - detail::g_window.gc_no_before));
  detail::append_number(line, "pause_count", count);
  detail::append_number(line, "pause_p50_ns", static_cast<uint64_t>(detail::percentile(sorted, 5000)));
  detail::append_number(line, "pause_p99_ns", static_cast<uint64_t>(detail::percentile(sorted, 9900)));
  detail::append_number(line, "pause_p999_ns", static_cast<uint64_t>(detail::percentile(sorted, 9990)));
  detail::append_number(line, "pause_max_ns", static_cast<uint64_t>(log.max_ns.load(std::memory_order_relaxed)));
  detail::append_number(line, "pause_total_ns",
                        static_cast<uint64_t>(log.total_ns.load(std::memory_order_relaxed)));
  detail::append_number(line, "peak_rss_bytes", static_cast<uint64_t>(usage.ru_maxrss) * 1024);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace boehm_peer
