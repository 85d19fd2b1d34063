// record.cpp — see record.h.
#include "record.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mimalloc.h>
#include <stdexcept>
#include <thread>

#ifndef TRICOLOR_BENCH_BUILD
#define TRICOLOR_BENCH_BUILD "unknown"
#endif
#ifndef TRICOLOR_BENCH_VERSION
#define TRICOLOR_BENCH_VERSION "unknown"
#endif

namespace tricolor_bench {

void set_metric(Metrics& metrics, std::string_view name, double value) {
  for (auto& [key, existing] : metrics) {
    if (key == name) {
      existing = value;
      return;
    }
  }
  metrics.emplace_back(std::string(name), value);
}

double get_metric(const Metrics& metrics, std::string_view name, double fallback) {
  for (const auto& [key, value] : metrics)
    if (key == name) return value;
  return fallback;
}

Metrics& Record::implementation(std::string_view impl) {
  for (auto& [key, metrics] : implementations)
    if (key == impl) return metrics;
  implementations.emplace_back(std::string(impl), Metrics{});
  return implementations.back().second;
}

std::string take_out_dir(int& argc, char** argv) {
  std::string dir;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--out" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg.starts_with("--out=")) {
      dir = std::string(arg.substr(6));
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  argv[argc] = nullptr;
  if (dir.empty()) {
    const char* env = std::getenv("TRICOLOR_BENCH_OUT");
    dir = (env != nullptr && *env != '\0') ? env : "bench/out";
  }
  return dir;
}

namespace {

std::string shell_quote(std::string_view word) {
  if (word.empty()) return "''";
  bool plain = true;
  for (char c : word) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::strchr("_-./=:,+@%", c) != nullptr;
    if (!ok) plain = false;
  }
  if (plain) return std::string(word);
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') quoted += "'\\''";
    else quoted += c;
  }
  return quoted + "'";
}

std::string mimalloc_version() {
  // MI_MALLOC_VERSION is major*100 + minor*10 + patch (209 is 2.0.9).
  const int v = MI_MALLOC_VERSION;
  return std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." + std::to_string(v % 10);
}

}  // namespace

std::string command_line(int argc, char* const* argv) {
  static const char* const kEnvironment[] = {"GOGC", "GOMEMLIMIT", "GODEBUG", "TRICOLOR_MIN_HEAP",
                                             "TRICOLOR_VERIFY"};
  std::string out;
  for (const char* name : kEnvironment) {
    const char* value = std::getenv(name);
    if (value == nullptr) continue;
    out += shell_quote(std::string(name) + "=" + value);
    out += ' ';
  }
  for (int i = 0; i < argc; ++i) {
    if (i > 0) out += ' ';
    out += shell_quote(argv[i]);
  }
  return out;
}

std::string json_escape(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through unchanged
        }
    }
  }
  return out + "\"";
}

std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  char buffer[64];
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);  // exact integers stay integers
    return buffer;
  }
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

unsigned cpu_cores() {
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (online > 0) return static_cast<unsigned>(online);
  return std::max(1u, std::thread::hardware_concurrency());
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("model name")) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t start = line.find_first_not_of(" \t", colon + 1);
    if (start == std::string::npos) break;
    size_t end = line.find_last_not_of(" \t\r");
    return line.substr(start, end - start + 1);
  }
  return "unknown";
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::string machine_json() {
  std::string out = "{\"cores\": " + std::to_string(cpu_cores());
  out += ", \"cpu\": " + json_escape(cpu_model());
  out += ", \"date\": " + json_escape(utc_timestamp());
  out += ", \"versions\": {\"compiler\": " + json_escape(__VERSION__);
  out += ", \"mimalloc\": " + json_escape(mimalloc_version());
  out += ", \"tricolor\": " + json_escape(TRICOLOR_BENCH_VERSION);
  out += ", \"build\": " + json_escape(TRICOLOR_BENCH_BUILD);
  out += "}}";
  return out;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[(values.size() - 1) / 2];
}

Metrics median_metrics(const std::vector<Metrics>& runs) {
  Metrics out;
  for (const Metrics& run : runs) {
    for (const auto& entry : run) {
      const std::string& name = entry.first;  // a structured binding: clang 14 cannot capture it
      if (std::any_of(out.begin(), out.end(), [&](const auto& m) { return m.first == name; })) continue;
      std::vector<double> values;
      for (const Metrics& other : runs) {
        for (const auto& [other_name, other_value] : other) {
          if (other_name == name) values.push_back(other_value);
        }
      }
      out.emplace_back(name, median(std::move(values)));
    }
  }
  return out;
}

namespace {
// {"name": value, ...}
std::string metrics_json(const Metrics& metrics) {
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : metrics) {
    out += first ? "" : ", ";
    first = false;
    out += json_escape(name) + ": " + json_number(value);
  }
  return out + "}";
}
}  // namespace

std::string to_json(const Record& record) {
  std::string out = "{\n";
  out += "  \"name\": " + json_escape(record.name) + ",\n";
  out += "  \"machine\": " + machine_json() + ",\n";
  out += "  \"command\": " + json_escape(record.command) + ",\n";
  out += "  \"implementations\": {";
  bool first_impl = true;
  for (const auto& [impl, metrics] : record.implementations) {
    out += first_impl ? "\n" : ",\n";
    first_impl = false;
    out += "    " + json_escape(impl) + ": " + metrics_json(metrics);
  }
  out += first_impl ? "}" : "\n  }";
  if (!record.runs.empty()) {
    out += ",\n  \"runs\": {";
    bool first_runs = true;
    for (const auto& [impl, runs] : record.runs) {
      out += first_runs ? "\n" : ",\n";
      first_runs = false;
      out += "    " + json_escape(impl) + ": [";
      for (size_t i = 0; i < runs.size(); ++i) out += (i == 0 ? "\n      " : ",\n      ") + metrics_json(runs[i]);
      out += "]";
    }
    out += "\n  }";
  }
  out += "\n}\n";
  return out;
}

std::string write_record(const Record& record, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw std::runtime_error("cannot create " + dir + ": " + error.message());
  const fs::path path = fs::path(dir) / (record.name + ".json");
  const fs::path temporary = fs::path(dir) / ("." + record.name + ".json.tmp");
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << to_json(record);
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + temporary.string());
  }
  fs::rename(temporary, path, error);  // readers never see a half-written record
  if (error) throw std::runtime_error("cannot rename to " + path.string() + ": " + error.message());
  return path.string();
}

double peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;
}

}  // namespace tricolor_bench
