// harness.cpp — see harness.h.
#include "harness.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <tricolor/tricolor.h>

namespace tricolor_bench {

void add_gc_metrics(Metrics& metrics, const tricolor::gc::GcStats& stats) {
  set_metric(metrics, "collections", static_cast<double>(stats.collections));
  set_metric(metrics, "pause_p50_ns", static_cast<double>(stats.pause_ns.percentile(0.50)));
  set_metric(metrics, "pause_p99_ns", static_cast<double>(stats.pause_ns.percentile(0.99)));
  set_metric(metrics, "pause_max_ns", static_cast<double>(stats.pause_ns.max()));
  set_metric(metrics, "pause_total_ns", static_cast<double>(stats.total_pause_ns));
  set_metric(metrics, "ttsp_max_ns", static_cast<double>(stats.ttsp_ns.max()));
  set_metric(metrics, "allocated_bytes", static_cast<double>(stats.allocated_total_bytes));
  set_metric(metrics, "live_bytes_last_cycle", static_cast<double>(stats.live_bytes));
}

void print_result(const std::string& impl, const Metrics& metrics) {
  std::string line = "result: impl=" + impl;
  for (const auto& [name, value] : metrics) line += " " + name + "=" + json_number(value);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

namespace {

constexpr const char* kResultPrefix = "result: ";

// Parses "result: impl=X k=v ..." into impl and metrics; false if malformed.
bool parse_result(const std::string& line, std::string& impl, Metrics& metrics) {
  std::istringstream in(line.substr(std::strlen(kResultPrefix)));
  std::string word;
  while (in >> word) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos) return false;
    const std::string key = word.substr(0, eq);
    const std::string value = word.substr(eq + 1);
    if (key == "impl") {
      impl = value;
      continue;
    }
    if (value == "null") continue;
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0') return false;
    set_metric(metrics, key, number);
  }
  return !impl.empty();
}

// Runs one child; returns its exit status (or 128+signal), fills `metrics`.
int run_child(const std::string& impl, int argc, char** argv, Metrics& metrics, bool& got_result) {
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) args.emplace_back(argv[i]);
  args.emplace_back("--impl");
  args.push_back(impl);
  std::vector<char*> child_argv;
  for (auto& arg : args) child_argv.push_back(arg.data());
  child_argv.push_back(nullptr);

  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("pipe");
    return 1;
  }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    return 1;
  }
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execv("/proc/self/exe", child_argv.data());
    std::perror("execv /proc/self/exe");
    _exit(127);
  }
  close(fds[1]);
  FILE* from_child = fdopen(fds[0], "r");
  char* buffer = nullptr;
  size_t capacity = 0;
  ssize_t length;
  got_result = false;
  while ((length = getline(&buffer, &capacity, from_child)) > 0) {
    std::string line(buffer, static_cast<size_t>(length));
    std::fputs(line.c_str(), stdout);  // pass the child's output through
    std::fflush(stdout);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    if (line.starts_with(kResultPrefix)) {
      std::string reported;
      Metrics parsed;
      if (parse_result(line, reported, parsed) && reported == impl) {
        metrics = std::move(parsed);
        got_result = true;
      } else {
        std::fprintf(stderr, "driver: malformed result line from %s: %s\n", impl.c_str(), line.c_str());
      }
    }
  }
  std::free(buffer);
  std::fclose(from_child);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      std::perror("waitpid");
      return 1;
    }
  }
  if (WIFSIGNALED(status)) {
    std::fprintf(stderr, "driver: %s child killed by signal %d (%s)\n", impl.c_str(), WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}

std::string cell(const Metrics& metrics, const char* name, double scale, const char* format) {
  for (const auto& [key, value] : metrics) {
    if (key != name) continue;
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, value * scale);
    return buffer;
  }
  return "-";
}

}  // namespace

int drive(const std::string& name, const std::vector<std::string>& impls, int argc, char** argv,
          const std::string& out_dir, const std::string& command) {
  Record record{name, command, {}};
  for (const auto& impl : impls) {
    std::printf("== %s: %s ==\n", name.c_str(), impl.c_str());
    std::fflush(stdout);
    Metrics metrics;
    bool got_result = false;
    const int status = run_child(impl, argc, argv, metrics, got_result);
    if (status != 0 || !got_result) {
      std::fprintf(stderr, "%s: implementation %s FAILED (exit status %d%s); no record written\n",
                   name.c_str(), impl.c_str(), status, got_result ? "" : ", no result line");
      return status != 0 ? status : 1;
    }
    record.implementation(impl) = std::move(metrics);
  }
  std::string path;
  try {
    path = write_record(record, out_dir);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), error.what());
    return 1;
  }

  std::printf("\n%s on %u cores, %s\n", name.c_str(), cpu_cores(), cpu_model().c_str());
  std::printf("%-16s %9s %13s %6s %10s %10s %10s %10s %9s\n", "implementation", "wall_s", "ops/s", "GCs",
              "p50_us", "p99_us", "max_us", "ttsp_us", "rss_MiB");
  for (const auto& [impl, m] : record.implementations) {
    std::printf("%-16s %9s %13s %6s %10s %10s %10s %10s %9s\n", impl.c_str(),
                cell(m, "wall_s", 1, "%.3f").c_str(), cell(m, "ops_per_s", 1, "%.4g").c_str(),
                cell(m, "collections", 1, "%.0f").c_str(), cell(m, "pause_p50_ns", 1e-3, "%.1f").c_str(),
                cell(m, "pause_p99_ns", 1e-3, "%.1f").c_str(), cell(m, "pause_max_ns", 1e-3, "%.1f").c_str(),
                cell(m, "ttsp_max_ns", 1e-3, "%.1f").c_str(), cell(m, "peak_rss_bytes", 1.0 / 1048576, "%.1f").c_str());
  }
  std::printf("wrote %s\n", path.c_str());
  return 0;
}

}  // namespace tricolor_bench
