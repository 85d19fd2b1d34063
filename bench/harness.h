// harness.h — what the standalone GC benchmarks (gcbench, binarytrees) share:
// the collector metrics, the one-line result format, and the driver that runs
// the program once per implementation in a child process.
//
// Protocol between driver and child: the child (`PROGRAM --impl IMPL ...`)
// prints its own output on stdout and, last, exactly one line
//   result: impl=IMPL wall_s=1.25 ops_per_s=... peak_rss_bytes=...
// which is both the human summary and what the driver parses. A child that
// fails its correctness checks exits non-zero; the driver then exits non-zero
// and writes no record.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "record.h"

namespace tricolor {
namespace gc {
struct GcStats;
}
}  // namespace tricolor

namespace tricolor_bench {

// collections, pause_p50/p99/max_ns, pause_total_ns, ttsp_max_ns,
// allocated_bytes, live_bytes_last_cycle from a stats snapshot.
void add_gc_metrics(Metrics& metrics, const tricolor::gc::GcStats& stats);

// Prints the "result: impl=... key=value ..." line and flushes stdout.
void print_result(const std::string& impl, const Metrics& metrics);

// Runs `argv[0] ARGS... --impl IMPL` for each implementation (re-executing
// /proc/self/exe so peak RSS is per implementation), passes the children's
// output through, collects their result lines, writes OUT/NAME.json and
// prints a summary table. Returns the process exit status.
int drive(const std::string& name, const std::vector<std::string>& impls, int argc, char** argv,
          const std::string& out_dir, const std::string& command);

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
