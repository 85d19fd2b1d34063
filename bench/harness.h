// harness.h — what the standalone GC benchmarks (gcbench, binarytrees,
// heap_pauses) share:
// the whole program around the algorithm. A benchmark describes itself in a
// BenchProgram (name, flags, implementations, extra metrics) and its main() is
// `return bench_main(argc, argv, program);`, which owns argument parsing,
// --help, driver vs child mode, the tricolor Runtime of a collected
// implementation, the metrics, the result line and the exit status. The
// collector metrics and Stopwatch are also used by alloc_bench.
//
// Command line: PROGRAM [FLAG VALUE]... [--impl IMPL] [--impls A,B] [--repeat R]
// [--out DIR], where each FLAG is one of the program's flags ("--flag V" or
// "--flag=V").
//   With --impl, the process is a child: it prints the program's title, runs
//   IMPL once and prints its own output on stdout and, last, exactly one line
//     result: impl=IMPL wall_s=1.25 ops_per_s=... peak_rss_bytes=...
//   which is both the human summary and what the driver parses. A child that
//   fails its correctness checks (check_failed) prints no result line and exits
//   1; an unknown implementation or a Runtime that cannot start exits 2.
//   Without --impl, the process is the driver: it re-executes itself once per
//   implementation with the program's flags and `--impl IMPL` (so peak RSS is
//   per implementation; a peer's own program instead), writes OUT/NAME.json
//   (see record.h) and prints a summary table; if a child fails, it exits
//   non-zero and writes no record. --impls picks the implementations (default:
//   those run by default); --repeat R runs them R times, alternating (A B A B),
//   and records the medians and every run.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "record.h"

namespace tricolor {
class Mutator;
class Runtime;
namespace gc {
struct GcStats;
}
}  // namespace tricolor

namespace tricolor_bench {

// What one run of an implementation measured.
struct Measured {
  double seconds = 0;   // wall time of the timed region: wall_s
  long operations = 0;  // work done in it, the "ops" of ops_per_s
};

// One implementation of the algorithm. Exactly one of with_collector,
// with_runtime, without_collector and external_program is set.
struct Implementation {
  std::string name;  // the --impl value, the record's implementation key
  // Runs with a fresh tricolor::Runtime (configured from GOGC, GOMEMLIMIT,
  // GODEBUG, TRICOLOR_*) whose collector metrics are then reported.
  std::function<Measured(tricolor::Mutator& mutator)> with_collector{};
  // Runs without a collector (manual memory management).
  std::function<Measured()> without_collector{};
  // (The fields below have default initializers so that programs which do not
  // use them may leave them out of their designated initializers.)
  // As with_collector, for a program that also needs the Runtime itself (to
  // give threads of its own a MutatorScope, to change GOGC at run time).
  // `mutator` is the calling thread's.
  std::function<Measured(tricolor::Runtime& runtime, tricolor::Mutator& mutator)> with_runtime{};
  // Environment variables the child sets (overwriting) before it creates the
  // Runtime, e.g. {"TRICOLOR_MODE", "stw"}: `--impl IMPL` alone reproduces
  // the implementation whatever the caller's environment says.
  std::vector<std::pair<std::string, std::string>> environment{};
  // A peer built as another program (bench/peers/boehm): the driver runs
  // `external_program FLAGS... --impl NAME`, which prints the same result line.
  std::string external_program{};
  // Whether the driver runs it without --impls (a slow peer may opt out).
  bool by_default = true;
};

// A flag of the program that takes a value; the driver forwards it to the children.
struct Flag {
  std::string name;     // "--depth"
  std::string metavar;  // "N", for the usage text
  std::string help;     // "maximum tree depth (default 21)"
  std::string expects;  // "an integer in 0..30", for the error on a bad value
  std::function<bool(const std::string& value)> parse;  // stores the value; false if invalid
};

struct BenchProgram {
  std::string name;  // "gcbench": OUT/NAME.json, bench_NAME, message prefix
  std::vector<Flag> flags;
  std::vector<Implementation> implementations;  // the driver runs them in this order
  // The first line a child prints, e.g. "binary-trees, depth 21, ..., implementation IMPL".
  std::function<std::string(const std::string& impl)> title;
  // Metrics of the program after wall_s, ops_per_s and the collector metrics
  // and before peak_rss_bytes (e.g. allocations, depth); may be empty.
  std::function<void(Metrics& metrics, const Measured& measured)> add_metrics;
  // Collector metrics of the program, called (for an implementation with a
  // collector) with the stats snapshot taken after the run, right after
  // add_gc_metrics() and before add_metrics; it may add metrics or replace
  // add_gc_metrics' ones (set_metric keeps their place). May be empty, and
  // left out of a designated initializer (it has a default initializer).
  std::function<void(Metrics& metrics, const tricolor::gc::GcStats& stats)> add_collector_metrics{};
};

// The main() of a benchmark program (see the top of this file).
int bench_main(int argc, char** argv, const BenchProgram& program);

// Reports a failed correctness check of the running child: prints
// "NAME: CHECK FAILED: <formatted message>" on stderr; the child then exits 1.
[[gnu::format(printf, 1, 2)]] void check_failed(const char* format, ...);

// Prints the child's "result: impl=IMPL name=value ..." line and flushes stdout.
void print_result(const std::string& impl, const Metrics& metrics);

// Runs `command` (command[0]: the executable's path; "/proc/self/exe"
// re-executes this program) with its stdout passed through to ours, and
// parses its result line for `impl` into `metrics` (got_result: whether one
// arrived, well formed). Returns its exit status, 128 + N if signal N killed it.
int run_result_child(const std::vector<std::string>& command, const std::string& impl, Metrics& metrics,
                     bool& got_result);

// A program built beside this one (a peer, a sibling benchmark): `name` in
// this executable's directory, or $ENV_VAR when that is set and not empty
// (env_var may be null).
std::string beside_this_program(const std::string& name, const char* env_var = nullptr);

// The collector's share of the machine's CPU over `seconds`, counted as Go's
// GCCPUFraction counts it: the markers' CPU (assists, background, idle) plus
// every core for the length of each global stop (the world stopped on all).
double gc_cpu_share(uint64_t marker_cpu_ns, uint64_t global_stop_ns, double seconds);

// collections, pause_p50/p99/max_ns, pause_total_ns, ttsp_max_ns,
// allocated_bytes, live_bytes_last_cycle from a stats snapshot.
void add_gc_metrics(Metrics& metrics, const tricolor::gc::GcStats& stats);

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  double milliseconds() const { return seconds() * 1e3; }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace tricolor_bench
