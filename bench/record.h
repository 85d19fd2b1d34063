// record.h — the benchmark record: one JSON file per benchmark, one schema.
//
// Every benchmark program writes OUT/NAME.json:
//   {"name": NAME,
//    "machine": {"cores": N, "cpu": "<model name>", "date": "<ISO-8601 UTC>",
//                "versions": {"compiler": ..., "mimalloc": ..., "tricolor": ...,
//                             "build": "<meson buildtype>"}},
//    "command": "<the command line, with the GC environment in front>",
//    "implementations": {IMPL: {METRIC: number, ...}, ...},
//    "runs": {IMPL: [{METRIC: number, ...}, ...], ...}}   (repeated runs only)
// A benchmark that repeats its runs (alternating the implementations) keeps
// every run under "runs" and the medians under "implementations".
// Metric names are flat and carry their unit (wall_s, ops_per_s, pause_p99_ns,
// peak_rss_bytes, collections). A metric that does not apply to an
// implementation (pauses of manual memory management) is left out, never 0.
// The JSON is written by hand: no dependency beyond the standard library.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tricolor_bench {

// Ordered, so the file lists metrics in the order the benchmark produced them.
using Metrics = std::vector<std::pair<std::string, double>>;

// Sets `name` to `value`, replacing an earlier value of the same name.
void set_metric(Metrics& metrics, std::string_view name, double value);
// The value of `name`, or `fallback` if absent.
double get_metric(const Metrics& metrics, std::string_view name, double fallback = 0.0);

struct Record {
  std::string name;
  std::string command;
  std::vector<std::pair<std::string, Metrics>> implementations;

  // Every run of each implementation, in run order, for a repeated benchmark.
  std::vector<std::pair<std::string, std::vector<Metrics>>> runs{};

  // The metrics of `impl`, added (empty) on first use.
  Metrics& implementation(std::string_view impl);
};

// The lower median of `values` (0 if empty).
double median(std::vector<double> values);
// Each metric's median over the runs that report it, in first-seen order.
Metrics median_metrics(const std::vector<Metrics>& runs);

// Removes "--out DIR" / "--out=DIR" from argv (so later parsers never see it)
// and returns the output directory: the flag, else $TRICOLOR_BENCH_OUT, else
// "bench/out" (relative to the current directory).
std::string take_out_dir(int& argc, char** argv);

// The command line, shell-quoted, preceded by the tricolor environment
// variables that are set (GOGC=50 GODEBUG=gctrace=1 ...), so that the command
// reproduces the run. Call before take_out_dir() to keep --out in it.
std::string command_line(int argc, char* const* argv);

// JSON text helpers.
std::string json_escape(std::string_view text);  // with the surrounding quotes
std::string json_number(double value);            // shortest round-trip; null if not finite

// The "machine" object and its parts.
unsigned cpu_cores();
std::string cpu_model();       // "model name" of /proc/cpuinfo, else "unknown"
std::string utc_timestamp();   // 2025-01-31T12:34:56Z
std::string machine_json();

std::string to_json(const Record& record);

// Writes DIR/NAME.json, creating DIR if missing; returns the path written.
// Throws std::runtime_error if the file cannot be written.
std::string write_record(const Record& record, const std::string& dir);

// The process's peak resident set size (getrusage ru_maxrss, KiB → bytes).
double peak_rss_bytes();

}  // namespace tricolor_bench
