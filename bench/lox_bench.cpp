// lox_bench.cpp — the Lox programs of bench/lox/ run by the Lox VM
// (examples/lox) with the concurrent and the stop-the-world collector, side
// by side: bench/out/lox.json (implementations `concurrent` and `stw`, one
// metric set per program: PROGRAM_wall_s, PROGRAM_collections,
// PROGRAM_pause_p99_ns, PROGRAM_pause_max_ns, PROGRAM_ttsp_max_ns,
// PROGRAM_peak_rss_bytes).
//
// Each run is a fresh `lox --stats PROGRAM` process: wall time is measured
// here, outside it (fork to exit); peak RSS comes from the OS (wait4's
// ru_maxrss); collections and pauses from the line --stats prints. Modes
// alternate per program (concurrent, stw, concurrent, stw, ... for
// --repeat R); each metric is the median of the R runs (the lower median
// for an even R). Both modes must print the same output, or the benchmark
// fails: a collector bug that changes a program's result is not a speed-up.
//
//   bench_lox [--lox PATH] [--programs a,b,...] [--repeat R] [--out DIR]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "record.h"

namespace {

using tricolor_bench::Metrics;

struct Run {
  int status = -1;
  double wall_s = 0;
  double peak_rss_bytes = 0;
  std::string out;
  std::string err;
};

std::string read_all(int fd) {
  std::string text;
  char buffer[65536];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  return text;
}

// Runs `lox --stats program` with TRICOLOR_MODE=mode.
Run run_lox(const std::string& lox, const std::string& program, const std::string& mode) {
  Run run;
  char out_template[] = "/tmp/lox_bench_out_XXXXXX";
  char err_template[] = "/tmp/lox_bench_err_XXXXXX";
  const int out_fd = mkstemp(out_template);
  const int err_fd = mkstemp(err_template);
  if (out_fd < 0 || err_fd < 0) return run;
  unlink(out_template);
  unlink(err_template);
  std::fflush(nullptr);
  const auto started = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    setenv("TRICOLOR_MODE", mode.c_str(), 1);
    execl(lox.c_str(), lox.c_str(), "--stats", program.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.peak_rss_bytes = static_cast<double>(usage.ru_maxrss) * 1024;
  lseek(out_fd, 0, SEEK_SET);
  lseek(err_fd, 0, SEEK_SET);
  run.out = read_all(out_fd);
  run.err = read_all(err_fd);
  close(out_fd);
  close(err_fd);
  return run;
}

// The numbers of the --stats line: "lox: collections=N pauses=N ...".
bool parse_stats(const std::string& err, Metrics& metrics) {
  const size_t at = err.rfind("lox: collections=");
  if (at == std::string::npos) return false;
  std::istringstream words(err.substr(at + 5, err.find('\n', at) - at - 5));
  std::string word;
  while (words >> word) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos) continue;
    tricolor_bench::set_metric(metrics, word.substr(0, eq), std::strtod(word.c_str() + eq + 1, nullptr));
  }
  return true;
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(list);
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = tricolor_bench::command_line(argc, argv);
  const std::string out_dir = tricolor_bench::take_out_dir(argc, argv);
  std::string lox = LOX_BINARY;
  std::string programs_dir = LOX_PROGRAMS_DIR;
  std::vector<std::string> programs;
  int repeat = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--lox" && i + 1 < argc) {
      lox = argv[++i];
    } else if (arg == "--programs" && i + 1 < argc) {
      programs = split(argv[++i]);
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
      if (repeat < 1 || repeat > 100) {
        std::fprintf(stderr, "bench_lox: --repeat expects an integer in 1..100, got '%s'\n", argv[i]);
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: bench_lox [--lox PATH] [--programs a,b,...] [--repeat R] [--out DIR]\n");
      return 2;
    }
  }
  if (programs.empty()) {
    for (const auto& entry : std::filesystem::directory_iterator(programs_dir))
      if (entry.path().extension() == ".lox") programs.push_back(entry.path().stem().string());
    std::sort(programs.begin(), programs.end());
  }
  const std::vector<std::string> modes = {"concurrent", "stw"};
  std::map<std::string, Metrics> results;  // mode -> metrics
  for (const std::string& name : programs) {
    const std::string path = programs_dir + "/" + name + ".lox";
    std::map<std::string, std::map<std::string, std::vector<double>>> samples;  // mode -> metric -> runs
    std::string expected_out;
    for (int r = 0; r < repeat; ++r) {
      for (const std::string& mode : modes) {
        std::printf("lox %-16s %-10s run %d of %d ... ", name.c_str(), mode.c_str(), r + 1, repeat);
        std::fflush(stdout);
        const Run run = run_lox(lox, path, mode);
        Metrics stats;
        if (run.status != 0 || !parse_stats(run.err, stats)) {
          std::printf("FAILED (exit %d)\n%s", run.status, run.err.c_str());
          return 1;
        }
        if (expected_out.empty()) expected_out = run.out;
        if (run.out != expected_out) {
          std::printf("FAILED: output differs between runs\n--- first:\n%s--- %s:\n%s", expected_out.c_str(),
                      mode.c_str(), run.out.c_str());
          return 1;
        }
        auto& s = samples[mode];
        s["wall_s"].push_back(run.wall_s);
        s["peak_rss_bytes"].push_back(run.peak_rss_bytes);
        for (const char* metric : {"collections", "pause_p99_ns", "pause_max_ns", "ttsp_max_ns"})
          s[metric].push_back(tricolor_bench::get_metric(stats, metric));
        std::printf("%.2f s, %.0f collections, max pause %.1f us\n", run.wall_s,
                    tricolor_bench::get_metric(stats, "collections"),
                    tricolor_bench::get_metric(stats, "pause_max_ns") / 1e3);
      }
    }
    for (const std::string& mode : modes)
      for (const char* metric : {"wall_s", "collections", "pause_p99_ns", "pause_max_ns", "ttsp_max_ns", "peak_rss_bytes"})
        tricolor_bench::set_metric(results[mode], name + "_" + metric, tricolor_bench::median(samples[mode][metric]));
  }
  tricolor_bench::Record record{"lox", command, {}};
  for (const std::string& mode : modes) record.implementation(mode) = results[mode];
  try {
    std::printf("wrote %s\n", tricolor_bench::write_record(record, out_dir).c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_lox: %s\n", error.what());
    return 1;
  }
  return 0;
}
