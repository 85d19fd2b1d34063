// harness.cpp — see harness.h: bench_main (arguments, usage, child mode,
// driver mode), the result line and its parsing, the summary table.
#include "harness.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
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

std::string beside_this_program(const std::string& name, const char* env_var) {
  if (const char* env = env_var != nullptr ? std::getenv(env_var) : nullptr; env != nullptr && *env != '\0') return env;
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return name;  // the working directory, or PATH, then
  const std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + name;
}

double gc_cpu_share(uint64_t marker_cpu_ns, uint64_t global_stop_ns, double seconds) {
  const double cores = cpu_cores();
  return (static_cast<double>(marker_cpu_ns) + static_cast<double>(global_stop_ns) * cores) / (seconds * 1e9 * cores);
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

}  // namespace

int run_result_child(const std::vector<std::string>& command, const std::string& impl, Metrics& metrics,
                     bool& got_result) {
  std::vector<std::string> args = command;
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
    execv(child_argv[0], child_argv.data());
    std::fprintf(stderr, "execv %s: %s\n", child_argv[0], std::strerror(errno));
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

namespace {

std::string cell(const Metrics& metrics, const char* name, double scale, const char* format) {
  for (const auto& [key, value] : metrics) {
    if (key != name) continue;
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, value * scale);
    return buffer;
  }
  return "-";
}

// Runs `PROGRAM ARGS... --impl IMPL` for each implementation, `repeat` times
// alternating (PROGRAM: /proc/self/exe, re-executed so peak RSS is per
// implementation, or a peer's program), passes the children's output
// through, collects their result lines, writes OUT/NAME.json and prints a
// summary table of the medians. Returns the process exit status.
int drive(const std::string& name, const std::vector<const Implementation*>& impls, int repeat, int argc,
          char** argv, const std::string& out_dir, const std::string& command) {
  Record record{name, command, {}, {}};
  for (const Implementation* impl : impls) record.runs.emplace_back(impl->name, std::vector<Metrics>{});
  for (int r = 1; r <= repeat; ++r) {
    for (size_t i = 0; i < impls.size(); ++i) {
      const std::string& impl = impls[i]->name;
      if (repeat == 1) std::printf("== %s: %s ==\n", name.c_str(), impl.c_str());
      else std::printf("== %s: %s, run %d of %d ==\n", name.c_str(), impl.c_str(), r, repeat);
      std::fflush(stdout);
      Metrics metrics;
      bool got_result = false;
      std::vector<std::string> child = {impls[i]->external_program.empty() ? "/proc/self/exe"
                                                                            : impls[i]->external_program};
      for (int a = 1; a < argc; ++a) child.emplace_back(argv[a]);
      child.insert(child.end(), {"--impl", impl});
      const int status = run_result_child(child, impl, metrics, got_result);
      if (status != 0 || !got_result) {
        std::fprintf(stderr, "%s: implementation %s FAILED (exit status %d%s); no record written\n",
                     name.c_str(), impl.c_str(), status, got_result ? "" : ", no result line");
        return status != 0 ? status : 1;
      }
      record.runs[i].second.push_back(std::move(metrics));
    }
  }
  for (const auto& [impl, runs] : record.runs) record.implementation(impl) = median_metrics(runs);
  if (repeat == 1) record.runs.clear();
  std::string path;
  try {
    path = write_record(record, out_dir);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), error.what());
    return 1;
  }

  // The columns every program shows, plus the optional ones (shown when some
  // implementation reports their metric).
  struct Column {
    const char* header;
    const char* metric;  // null: the implementation's name
    double scale;
    const char* format;
    int width;
    bool optional;
  };
  static const Column kColumns[] = {
      {"implementation", nullptr, 1, "", -16, false},
      {"wall_s", "wall_s", 1, "%.3f", 9, false},
      {"ops/s", "ops_per_s", 1, "%.4g", 13, false},
      {"GCs", "collections", 1, "%.0f", 6, false},
      {"p50_us", "pause_p50_ns", 1e-3, "%.1f", 10, false},
      {"p99_us", "pause_p99_ns", 1e-3, "%.1f", 10, false},
      {"p99.9_us", "pause_p999_ns", 1e-3, "%.1f", 10, true},
      {"max_us", "pause_max_ns", 1e-3, "%.1f", 10, false},
      {"gmax_us", "global_pause_max_ns", 1e-3, "%.1f", 10, true},
      {"ttsp_us", "ttsp_max_ns", 1e-3, "%.1f", 10, false},
      {"rss_MiB", "peak_rss_bytes", 1.0 / 1048576, "%.1f", 9, false},
  };
  std::vector<const Column*> columns;
  for (const Column& column : kColumns) {
    bool shown = !column.optional;
    for (const auto& implementation : record.implementations) {
      for (const auto& metric : implementation.second) {
        shown |= column.metric != nullptr && metric.first == column.metric;
      }
    }
    if (shown) columns.push_back(&column);
  }
  std::printf("\n%s on %u cores, %s%s\n", name.c_str(), cpu_cores(), cpu_model().c_str(),
              repeat > 1 ? (", medians of " + std::to_string(repeat) + " alternating runs").c_str() : "");
  std::string header;
  for (const Column* column : columns) {
    header += (header.empty() ? "" : " ");
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%*s", column->width, column->header);
    header += buffer;
  }
  std::printf("%s\n", header.c_str());
  for (const auto& [impl, m] : record.implementations) {
    std::string row;
    for (const Column* column : columns) {
      const std::string text =
          column->metric == nullptr ? impl : cell(m, column->metric, column->scale, column->format);
      row += (row.empty() ? "" : " ");
      char buffer[128];
      std::snprintf(buffer, sizeof buffer, "%*s", column->width, text.c_str());
      row += buffer;
    }
    std::printf("%s\n", row.c_str());
  }
  std::printf("wrote %s\n", path.c_str());
  return 0;
}

std::string g_program_name;  // of the running child, for check_failed()
bool g_checks_failed = false;

void add_time_metrics(Metrics& metrics, const Measured& measured) {
  set_metric(metrics, "wall_s", measured.seconds);
  set_metric(metrics, "ops_per_s", static_cast<double>(measured.operations) / measured.seconds);
}

// Child mode: runs implementation `impl` once and prints its result line.
int run_impl(const BenchProgram& program, const std::string& impl) {
  const char* name = program.name.c_str();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("%s\n", program.title(impl).c_str());
  const Implementation* implementation = nullptr;
  std::string known;
  for (const Implementation& candidate : program.implementations) {
    if (candidate.name == impl) implementation = &candidate;
    known += (known.empty() ? "" : ", ") + candidate.name;
  }
  if (implementation == nullptr || !implementation->external_program.empty()) {
    std::fprintf(stderr, "%s: unknown implementation '%s' (%s; a peer's runs its own program)\n", name, impl.c_str(),
                 known.c_str());
    return 2;
  }
  for (const auto& [variable, value] : implementation->environment) {
    if (setenv(variable.c_str(), value.c_str(), 1) != 0) {
      std::fprintf(stderr, "%s: setenv %s: %s\n", name, variable.c_str(), std::strerror(errno));
      return 2;
    }
  }
  Metrics metrics;
  Measured measured;
  if (implementation->with_collector || implementation->with_runtime) {
    std::optional<tricolor::Runtime> runtime;
    try {
      runtime.emplace();  // reads GOGC, GOMEMLIMIT, GODEBUG, TRICOLOR_*
    } catch (const std::exception& error) {
      std::fprintf(stderr, "%s: %s\n", name, error.what());
      return 2;
    }
    {
      tricolor::MutatorScope mutator(*runtime);
      measured = implementation->with_runtime ? implementation->with_runtime(*runtime, mutator)
                                              : implementation->with_collector(mutator);
    }
    add_time_metrics(metrics, measured);
    const tricolor::Stats stats = runtime->stats();
    add_gc_metrics(metrics, stats);
    set_metric(metrics, "gc_cpu_share",
               gc_cpu_share(stats.assist_cpu_ns + stats.background_cpu_ns + stats.idle_cpu_ns,
                            stats.global_pause_ns.sum(), measured.seconds));
    if (program.add_collector_metrics) program.add_collector_metrics(metrics, stats);
  } else {
    measured = implementation->without_collector();
    add_time_metrics(metrics, measured);
  }
  if (program.add_metrics) program.add_metrics(metrics, measured);
  set_metric(metrics, "peak_rss_bytes", peak_rss_bytes());
  if (g_checks_failed) {
    std::fprintf(stderr, "%s: %s FAILED its correctness checks\n", name, impl.c_str());
    return 1;
  }
  print_result(impl, metrics);
  return 0;
}

void usage(FILE* to, const BenchProgram& program) {
  std::string flags;
  std::string help;
  for (const Flag& flag : program.flags) {
    flags += " [" + flag.name + " " + flag.metavar + "]";
    help += "  " + flag.name + " " + flag.metavar + ": " + flag.help + "\n";
  }
  std::string impls;
  for (const Implementation& implementation : program.implementations) {
    impls += (impls.empty() ? "" : "|") + implementation.name;
  }
  std::fprintf(to,
               "usage: bench_%s%s [--impl %s] [--impls A,B] [--repeat R] [--out DIR]\n"
               "%s"
               "  without --impl: run the implementations (--impls, default: all but the opt-in ones)\n"
               "  in child processes, R times alternating (default 1: medians of R runs), and write\n"
               "  DIR/%s.json (DIR: --out, else $TRICOLOR_BENCH_OUT, else bench/out)\n",
               program.name.c_str(), flags.c_str(), impls.c_str(), help.c_str(), program.name.c_str());
}

// True if argv[i] is "NAME VALUE" (then `separate`) or "NAME=VALUE".
bool match_flag(const std::string& name, int argc, char** argv, int i, std::string& value, bool& separate) {
  const std::string arg = argv[i];
  separate = arg == name && i + 1 < argc;
  if (separate) {
    value = argv[i + 1];
    return true;
  }
  if (!arg.starts_with(name + "=")) return false;
  value = arg.substr(name.size() + 1);
  return true;
}

}  // namespace

void check_failed(const char* format, ...) {
  std::fprintf(stderr, "%s: CHECK FAILED: ", g_program_name.c_str());
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  g_checks_failed = true;
}

int bench_main(int argc, char** argv, const BenchProgram& program) {
  g_program_name = program.name;
  const std::string command = command_line(argc, argv);
  const std::string out_dir = take_out_dir(argc, argv);
  std::string impl;
  std::string impl_list;
  std::string repeat_text = "1";
  int forwarded = 1;  // the program's flags are passed on to the children by the driver
  for (int i = 1; i < argc; ++i) {
    std::string value;
    bool separate = false;
    const Flag* flag = nullptr;
    const bool is_impl = match_flag("--impl", argc, argv, i, value, separate);
    const bool is_impls = !is_impl && match_flag("--impls", argc, argv, i, value, separate);
    const bool is_repeat = !is_impl && !is_impls && match_flag("--repeat", argc, argv, i, value, separate);
    for (size_t f = 0; !is_impl && !is_impls && !is_repeat && flag == nullptr && f < program.flags.size(); ++f) {
      if (match_flag(program.flags[f].name, argc, argv, i, value, separate)) flag = &program.flags[f];
    }
    if (is_impl) {
      impl = value;
    } else if (is_impls) {
      impl_list = value;
    } else if (is_repeat) {
      repeat_text = value;
    } else if (flag != nullptr) {
      if (!flag->parse(value)) {
        std::fprintf(stderr, "bench_%s: %s expects %s, got '%s'\n", program.name.c_str(), flag->name.c_str(),
                     flag->expects.c_str(), value.c_str());
        return 2;
      }
      argv[forwarded++] = argv[i];
      if (separate) argv[forwarded++] = argv[i + 1];
    } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      usage(stdout, program);
      return 0;
    } else {
      std::fprintf(stderr, "bench_%s: unknown argument '%s'\n", program.name.c_str(), argv[i]);
      usage(stderr, program);
      return 2;
    }
    if (separate) ++i;
  }
  argc = forwarded;
  argv[argc] = nullptr;
  if (!impl.empty()) return run_impl(program, impl);
  char* end = nullptr;
  const long repeat = std::strtol(repeat_text.c_str(), &end, 10);
  if (end == repeat_text.c_str() || *end != '\0' || repeat < 1 || repeat > 100) {
    std::fprintf(stderr, "bench_%s: --repeat expects an integer in 1..100, got '%s'\n", program.name.c_str(),
                 repeat_text.c_str());
    return 2;
  }
  std::vector<const Implementation*> impls;
  std::string known;
  for (const Implementation& implementation : program.implementations) {
    known += (known.empty() ? "" : ", ") + implementation.name;
    if (impl_list.empty() && implementation.by_default) impls.push_back(&implementation);
  }
  std::istringstream names(impl_list);
  for (std::string name; std::getline(names, name, ',');) {
    const Implementation* found = nullptr;
    for (const Implementation& implementation : program.implementations) {
      if (implementation.name == name) found = &implementation;
    }
    if (found == nullptr) {
      std::fprintf(stderr, "bench_%s: --impls: unknown implementation '%s' (%s)\n", program.name.c_str(),
                   name.c_str(), known.c_str());
      return 2;
    }
    impls.push_back(found);
  }
  if (impls.empty()) {
    std::fprintf(stderr, "bench_%s: --impls expects a comma-separated list of %s\n", program.name.c_str(),
                 known.c_str());
    return 2;
  }
  return drive(program.name, impls, static_cast<int>(repeat), argc, argv, out_dir, command);
}

}  // namespace tricolor_bench
