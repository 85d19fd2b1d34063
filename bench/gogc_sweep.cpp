// gogc_sweep.cpp — the tuning sweep behind docs/TUNING.md: the stw_assign
// workload (shortened: 5 s, 1 M entries, 64 MiB live, so that each setting
// runs several cycles) and GCBench under each GOGC in {25, 50, 100, 200, 400}
// and under GOGC=off with GOMEMLIMIT at 1.2x, 1.5x and 2x the live heap.
//
// Each setting is one child process (bench_stw_assign --impl tricolor, or
// bench_gcbench --impl concurrent, beside this program) with GOGC and
// GOMEMLIMIT set in its environment and nothing else changed. The live heap
// the limits are multiples of is what the GOGC=100 run of the same workload
// marked in its last cycle (live_bytes_last_cycle), so the GOGC settings run
// first. One record, OUT/gogc_sweep.json, implementation "WORKLOAD:SETTING"
// (e.g. "stw_assign:GOGC=50", "gcbench:GOMEMLIMIT=1.5x"), with each child's
// metrics plus gogc and memory_limit_bytes; scripts/plot draws it.
//
// Usage: bench_gogc_sweep [--seconds D] [--entries E] [--live-mb L] [--out DIR]
#include <unistd.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "harness.h"
#include "map_workload.h"
#include "record.h"

namespace {

using tricolor_bench::Metrics;

struct Setting {
  std::string label;  // "GOGC=50", "GOMEMLIMIT=1.5x"
  std::string gogc;   // the GOGC value
  double limit_factor = 0;  // > 0: GOMEMLIMIT = factor x live
};

const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = {
      {"GOGC=25", "25"},   {"GOGC=50", "50"},   {"GOGC=100", "100"}, {"GOGC=200", "200"},
      {"GOGC=400", "400"}, {"GOMEMLIMIT=1.2x", "off", 1.2}, {"GOMEMLIMIT=1.5x", "off", 1.5},
      {"GOMEMLIMIT=2x", "off", 2.0},
  };
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = tricolor_bench::command_line(argc, argv);
  const std::string out_dir = tricolor_bench::take_out_dir(argc, argv);
  std::string seconds = "5";
  std::string entries = "1000000";
  std::string live_mb = "64";
  for (int i = 1; i < argc; ++i) {
    std::string value;
    uint64_t number = 0;
    double real = 0;
    if (map_bench::take_flag("--seconds", argc, argv, i, value) && map_bench::parse_seconds(value, real)) {
      seconds = value;
    } else if (map_bench::take_flag("--entries", argc, argv, i, value) &&
               map_bench::parse_u64(value, 2, uint64_t{1} << 31, number)) {
      entries = value;
    } else if (map_bench::take_flag("--live-mb", argc, argv, i, value) &&
               map_bench::parse_u64(value, 0, 1 << 20, number)) {
      live_mb = value;
    } else {
      std::fprintf(stderr,
                   "usage: bench_gogc_sweep [--seconds D (5)] [--entries E (1000000)] [--live-mb L (64)] [--out DIR]\n"
                   "  (bad or unknown argument '%s')\n",
                   argv[i]);
      return 2;
    }
  }
  struct Workload {
    const char* name;
    std::vector<std::string> command;
    const char* impl;
  };
  const std::vector<Workload> workloads = {
      {"stw_assign",
       {tricolor_bench::beside_this_program("bench_stw_assign"), "--seconds", seconds, "--entries", entries, "--live-mb", live_mb},
       "tricolor"},
      {"gcbench", {tricolor_bench::beside_this_program("bench_gcbench")}, "concurrent"},
  };
  tricolor_bench::Record record{"gogc_sweep", command, {}, {}};
  unsetenv("GOGC");
  unsetenv("GOMEMLIMIT");
  for (const Workload& workload : workloads) {
    double live_bytes = 0;
    for (const Setting& setting : settings()) {
      std::vector<std::string> child = workload.command;
      child.insert(child.end(), {"--impl", workload.impl});
      setenv("GOGC", setting.gogc.c_str(), 1);
      double limit = 0;
      if (setting.limit_factor > 0) {
        if (live_bytes <= 0) {
          std::fprintf(stderr, "gogc_sweep: %s: no live heap measured at GOGC=100\n", workload.name);
          return 1;
        }
        limit = std::round(setting.limit_factor * live_bytes);
        setenv("GOMEMLIMIT", std::to_string(static_cast<int64_t>(limit)).c_str(), 1);
      }
      std::printf("== gogc_sweep: %s, %s (GOGC=%s%s) ==\n", workload.name, setting.label.c_str(), setting.gogc.c_str(),
                  limit > 0 ? (" GOMEMLIMIT=" + std::to_string(static_cast<int64_t>(limit))).c_str() : "");
      std::fflush(stdout);
      Metrics metrics;
      bool got_result = false;
      const int status = tricolor_bench::run_result_child(child, workload.impl, metrics, got_result);
      unsetenv("GOMEMLIMIT");
      if (status != 0 || !got_result) {
        std::fprintf(stderr, "gogc_sweep: %s %s FAILED (exit status %d); no record written\n", workload.name,
                     setting.label.c_str(), status);
        return status != 0 ? status : 1;
      }
      if (setting.gogc == "100") live_bytes = tricolor_bench::get_metric(metrics, "live_bytes_last_cycle");
      tricolor_bench::set_metric(metrics, "gogc", setting.gogc == "off" ? -1 : std::stod(setting.gogc));
      if (limit > 0) tricolor_bench::set_metric(metrics, "memory_limit_bytes", limit);
      record.implementation(std::string(workload.name) + ":" + setting.label) = std::move(metrics);
    }
  }
  unsetenv("GOGC");
  std::string path;
  try {
    path = tricolor_bench::write_record(record, out_dir);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "gogc_sweep: %s\n", error.what());
    return 1;
  }
  std::printf("\ngogc_sweep on %u cores, %s\n%-28s %9s %8s %5s %11s %10s %9s\n", tricolor_bench::cpu_cores(),
              tricolor_bench::cpu_model().c_str(), "workload:setting", "rss_MiB", "GC_CPU", "GCs", "pause_max_us",
              "ops/s", "wall_s");
  for (const auto& [name, m] : record.implementations) {
    auto get = [&](const char* key) { return tricolor_bench::get_metric(m, key, NAN); };
    std::printf("%-28s %9.0f %7.1f%% %5.0f %11.1f %10.3g %9.2f\n", name.c_str(), get("peak_rss_bytes") / 1048576,
                100 * get("gc_cpu_share"), get("collections"), get("pause_max_ns") * 1e-3, get("ops_per_s"),
                get("wall_s"));
  }
  std::printf("wrote %s\n", path.c_str());
  return 0;
}
