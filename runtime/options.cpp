// options.cpp — parsers and the declarative table behind Options::from_env().
//
// Owns: the grammar of each environment variable and the wording of every
// configuration error. Invariant: a row's apply() either accepts the whole
// value and updates Options, or rejects it and leaves Options untouched, so
// the caller reports exactly one error for the first malformed variable.
//
// Go semantics followed (Go runtime sources: readGOGC and readGOMEMLIMIT in
// runtime/mgcpacer.go, parseByteCount and atoi64 in runtime/string.go,
// parsegodebug in runtime/runtime1.go):
//   - GOGC: "off" disables collection; an unset or empty GOGC means 100.
//     Go turns a malformed value into 100 and a negative one into off,
//     silently; we reject both, and also a leading '+'.
//   - GOMEMLIMIT: unset, empty or "off" means no limit (math.MaxInt64); "0"
//     is a valid limit of 0 bytes; suffixes are case-sensitive; a malformed
//     value is fatal in Go too. Go's digit parser takes a leading '-', so Go
//     accepts "-0" (and "-0MiB") as 0; we reject any sign.
//   - GODEBUG: comma-separated key=value; entries without '=' and unknown
//     keys are ignored; at startup the last setting of a key wins. Go keeps
//     the old value on a malformed gctrace and also honours gctrace=2; we
//     accept only 0 and 1 and reject anything else.
//   - An empty value counts as unset for every variable (Go's rule for GOGC
//     and GOMEMLIMIT, applied uniformly to ours).
#include "options.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <initializer_list>

namespace tricolor {
namespace {

bool is_decimal_digit(char c) { return c >= '0' && c <= '9'; }

// Non-empty run of decimal digits (no sign, no spaces) that fits int64.
std::optional<int64_t> parse_decimal_digits(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (!is_decimal_digit(c)) return std::nullopt;
    const int digit = c - '0';
    if (value > (INT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

struct ByteUnit {
  std::string_view suffix;
  int64_t multiplier;
};

// Longest suffixes first, so "KiB" is not mistaken for a bare "B".
constexpr std::array<ByteUnit, 5> kByteUnits = {{
    {"KiB", int64_t{1} << 10},
    {"MiB", int64_t{1} << 20},
    {"GiB", int64_t{1} << 30},
    {"TiB", int64_t{1} << 40},
    {"B", 1},
}};

ByteUnit split_byte_unit(std::string_view& text) {
  for (const ByteUnit& unit : kByteUnits) {
    if (text.ends_with(unit.suffix)) {
      text.remove_suffix(unit.suffix.size());
      return unit;
    }
  }
  return ByteUnit{"", 1};
}

std::optional<bool> parse_zero_or_one(std::string_view text) {
  if (text == "0") return false;
  if (text == "1") return true;
  return std::nullopt;
}

// Applies every gctrace=... entry of a GODEBUG list; the last one wins.
std::optional<bool> parse_godebug_gctrace(std::string_view list, bool current) {
  bool gctrace = current;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view entry = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    const size_t equals = entry.find('=');
    if (equals == std::string_view::npos) continue;  // Go ignores it too
    if (entry.substr(0, equals) != "gctrace") continue;
    const std::optional<bool> value = parse_zero_or_one(entry.substr(equals + 1));
    if (!value) return std::nullopt;
    gctrace = *value;
  }
  return gctrace;
}

bool apply_gc_percent(std::string_view value, Options& opts) {
  const std::optional<int> percent = parse_gc_percent(value);
  if (!percent) return false;
  opts.gc_percent = *percent;
  return true;
}

bool apply_memory_limit(std::string_view value, Options& opts) {
  const std::optional<int64_t> limit_bytes = parse_memory_limit(value);
  if (!limit_bytes) return false;
  opts.memory_limit_bytes = *limit_bytes;
  return true;
}

bool apply_godebug(std::string_view value, Options& opts) {
  const std::optional<bool> gctrace = parse_godebug_gctrace(value, opts.gctrace);
  if (!gctrace) return false;
  opts.gctrace = *gctrace;
  return true;
}

bool apply_min_heap(std::string_view value, Options& opts) {
  const std::optional<int64_t> min_heap_bytes = parse_min_heap_bytes(value);
  if (!min_heap_bytes) return false;
  opts.min_heap_bytes = *min_heap_bytes;
  return true;
}

bool apply_verify(std::string_view value, Options& opts) {
  const std::optional<bool> verify = parse_zero_or_one(value);
  if (!verify) return false;
  opts.verify = *verify;
  return true;
}

bool apply_mode(std::string_view value, Options& opts) {
  if (value == "concurrent") opts.concurrent = true;
  else if (value == "stw") opts.concurrent = false;
  else return false;
  return true;
}

// A thread count from `least` to 256, or "auto" (-1).
std::optional<int> parse_thread_count(std::string_view value, int least) {
  if (value == "auto") return -1;
  if (value.empty() || value.size() > 3) return std::nullopt;
  int count = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    count = count * 10 + (c - '0');
  }
  if (count < least || count > 256) return std::nullopt;
  return count;
}

// TRICOLOR_MARK_WORKERS: "auto" or a count from 1 to 256.
bool apply_mark_workers(std::string_view value, Options& opts) {
  const std::optional<int> count = parse_thread_count(value, 1);
  if (!count) return false;
  opts.mark_workers = *count < 0 ? 0 : static_cast<unsigned>(*count);
  return true;
}

// TRICOLOR_IDLE_MARK_WORKERS: "auto" or a count from 0 to 256.
bool apply_idle_mark_workers(std::string_view value, Options& opts) {
  const std::optional<int> count = parse_thread_count(value, 0);
  if (!count) return false;
  opts.idle_mark_workers = *count;
  return true;
}

bool apply_hard_limit(std::string_view value, Options& opts) {
  const std::optional<int64_t> limit_bytes = parse_memory_limit(value);
  if (!limit_bytes) return false;
  opts.hard_limit_bytes = *limit_bytes == kMemoryLimitOff ? 0 : *limit_bytes;
  return true;
}

bool apply_stress(std::string_view value, Options& opts) {
  const std::optional<StressMode> stress = parse_stress(value);
  if (!stress) return false;
  opts.stress = *stress;
  return true;
}

// Empty (the default text) turns the trace off, as an unset variable does.
bool apply_trace(std::string_view value, Options& opts) {
  if (!value.empty() && !is_writable_file_path(value)) return false;
  opts.trace_path = std::string(value);
  return true;
}

constexpr OptionSpec kOptionTable[] = {
    {"GOGC", "percent | off", "100",
     "off or a decimal percentage from 0 to 2147483647 (e.g. 200); "
     "Go silently reads a malformed GOGC as 100 and a negative one as off, tricolor refuses both",
     "Heap growth, in percent of the live heap, that triggers the next collection; "
     "0 collects continuously, off disables collection.",
     apply_gc_percent},
    {"GOMEMLIMIT", "bytes | off", "off",
     "off or a decimal byte count with an optional unit B, KiB, MiB, GiB or TiB (e.g. 512MiB)",
     "Soft memory limit: the collector runs more often to stay under it.",
     apply_memory_limit},
    {"GODEBUG", "key=value list", "gctrace=0",
     "comma-separated key=value settings where gctrace is 0 or 1 (e.g. gctrace=1); "
     "other keys are ignored",
     "Shared with Go; tricolor reads only gctrace (1 prints one summary line per collection).",
     apply_godebug},
    {"TRICOLOR_MIN_HEAP", "bytes", "4MiB",
     "a decimal byte count of at least 64KiB with an optional unit B, KiB, MiB, GiB or TiB "
     "(e.g. 16MiB)",
     "Smallest heap goal, so that tiny heaps are not collected over and over.",
     apply_min_heap},
    {"TRICOLOR_VERIFY", "0 | 1", "0",
     "0 or 1",
     "1 runs the heap verifier at every collection (slow; for debugging).",
     apply_verify},
    {"TRICOLOR_MODE", "concurrent | stw", "concurrent",
     "concurrent or stw",
     "concurrent: mark and sweep run beside the program, with no global pause; "
     "stw: the whole collection in one pause (the correctness oracle and a baseline).",
     apply_mode},
    {"TRICOLOR_TRACE", "path", "",
     "a writable file path (e.g. /tmp/gc.json)",
     "Writes a Chrome trace-event JSON timeline (Perfetto, chrome://tracing) of every GC phase, "
     "handshake, assist slice and deferred-work item to this file at Runtime exit.",
     apply_trace},
    {"TRICOLOR_MARK_WORKERS", "count | auto", "auto",
     "auto or a number of threads from 1 to 256",
     "Dedicated background markers, the collector's own thread included. auto: Go's plan, a quarter of the "
     "cores, with a fractional marker (marking part of one thread's time) for what does not round to whole "
     "threads; a count means that many dedicated markers and no fractional one.",
     apply_mark_workers},
    {"TRICOLOR_IDLE_MARK_WORKERS", "count | auto", "auto",
     "auto or a number of threads from 0 to 256",
     "Idle markers: they mark only while fewer mutators run than the cores the dedicated and fractional "
     "markers leave (Go's idle Ps); auto: one per such core; 0: none.",
     apply_idle_mark_workers},
    {"TRICOLOR_HARD_LIMIT", "bytes | off", "off",
     "off or a decimal byte count with an optional unit B, KiB, MiB, GiB or TiB (e.g. 2GiB)",
     "Hard limit on the live heap: an allocation that would pass it gets one emergency "
     "collection, then throws tricolor::HeapExhausted (the heap stays intact).",
     apply_hard_limit},
    {"TRICOLOR_STRESS", "alloc:N | random:SEED | off", "off",
     "off, alloc:<bytes> (a cycle every that many allocated bytes, e.g. alloc:1MiB) or "
     "random:<seed> (a decimal seed > 0, e.g. random:42)",
     "Stress mode for tests: cycles started every N bytes, or at random with random "
     "handshake delays and marker yields.",
     apply_stress},
};

// The value as it appears in an error: quoted content stays on one line.
std::string escape_for_message(std::string_view value) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string escaped;
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      escaped += '\\';
      escaped += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      escaped += "\\x";
      escaped += kHexDigits[byte >> 4];
      escaped += kHexDigits[byte & 0xf];
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string invalid_value_message(const OptionSpec& spec, std::string_view value) {
  return std::string("tricolor: invalid ") + spec.env_name + "=\"" + escape_for_message(value) +
         "\": expected " + spec.accepted;
}

std::string markdown_cell(std::string_view text) {
  std::string cell;
  for (char c : text) {
    if (c == '|') cell += '\\';
    cell += c;
  }
  return cell;
}

std::string markdown_row(std::initializer_list<std::string_view> cells) {
  std::string row = "|";
  for (std::string_view cell : cells) row += " " + markdown_cell(cell) + " |";
  return row + "\n";
}

}  // namespace

std::optional<int> parse_gc_percent(std::string_view text) {
  if (text == "off") return kGcPercentOff;
  const std::optional<int64_t> percent = parse_decimal_digits(text);
  if (!percent || *percent > INT32_MAX) return std::nullopt;
  return static_cast<int>(*percent);
}

std::optional<int64_t> parse_byte_count(std::string_view text) {
  const ByteUnit unit = split_byte_unit(text);
  const std::optional<int64_t> count = parse_decimal_digits(text);
  if (!count || *count > INT64_MAX / unit.multiplier) return std::nullopt;
  return *count * unit.multiplier;
}

std::optional<int64_t> parse_memory_limit(std::string_view text) {
  if (text == "off") return kMemoryLimitOff;
  return parse_byte_count(text);
}

std::optional<StressMode> parse_stress(std::string_view text) {
  if (text == "off") return StressMode{};
  if (text.starts_with("alloc:")) {
    const std::optional<int64_t> bytes = parse_byte_count(text.substr(6));
    if (!bytes || *bytes <= 0) return std::nullopt;
    return StressMode{static_cast<uint64_t>(*bytes), 0};
  }
  if (text.starts_with("random:")) {
    const std::string_view digits = text.substr(7);
    if (digits.empty() || digits.size() > 19) return std::nullopt;
    uint64_t seed = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      seed = seed * 10 + static_cast<uint64_t>(c - '0');
    }
    if (seed == 0) return std::nullopt;
    return StressMode{0, seed};
  }
  return std::nullopt;
}

std::optional<int64_t> parse_min_heap_bytes(std::string_view text) {
  const std::optional<int64_t> bytes = parse_byte_count(text);
  if (!bytes || *bytes < kMinHeapFloorBytes) return std::nullopt;
  return bytes;
}

bool is_writable_file_path(std::string_view path) {
  if (path.empty() || path.back() == '/') return false;
  const std::string file(path);
  struct stat info;
  if (::stat(file.c_str(), &info) == 0) {
    return !S_ISDIR(info.st_mode) && ::access(file.c_str(), W_OK) == 0;
  }
  if (errno != ENOENT) return false;
  const size_t slash = file.rfind('/');
  const std::string directory =
      slash == std::string::npos ? std::string(".") : slash == 0 ? std::string("/") : file.substr(0, slash);
  return ::stat(directory.c_str(), &info) == 0 && S_ISDIR(info.st_mode) &&
         ::access(directory.c_str(), W_OK | X_OK) == 0;
}

std::span<const OptionSpec> option_table() { return kOptionTable; }

std::string options_markdown() {
  std::string table = markdown_row({"name", "type", "default", "accepted", "meaning"});
  table += markdown_row({"---", "---", "---", "---", "---"});
  for (const OptionSpec& spec : option_table()) {
    const std::string name = std::string("`") + spec.env_name + "`";
    table += markdown_row({name, spec.type, spec.default_text, spec.accepted, spec.doc});
  }
  return table;
}

Options Options::from_lookup(const std::function<const char*(const char*)>& getenv_fn) {
  Options opts;
  for (const OptionSpec& spec : option_table()) {
    const char* value = getenv_fn(spec.env_name);
    if (value == nullptr || *value == '\0') continue;  // unset or empty: default
    if (!spec.apply(value, opts)) throw ConfigError(invalid_value_message(spec, value));
  }
  return opts;
}

Options Options::from_env() {
  return from_lookup([](const char* name) -> const char* { return std::getenv(name); });
}

}  // namespace tricolor
