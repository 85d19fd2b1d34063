// options.h — the collector's tunables, read once from the environment.
//
// Owns: the Options struct, the declarative table of environment variables
// (GOGC, GOMEMLIMIT, GODEBUG, TRICOLOR_MIN_HEAP, TRICOLOR_VERIFY, TRICOLOR_MODE,
// TRICOLOR_TRACE) that fills it, the parsers behind each row, and the Markdown
// rendering of that table.
// Invariant: every Options produced by from_env()/from_lookup() holds only
// values a parser accepted (gc_percent >= 0 or kGcPercentOff, a non-negative
// memory limit, min_heap_bytes >= kMinHeapFloorBytes); a malformed variable
// is refused with a one-line ConfigError naming the variable, echoing its
// value and listing the accepted forms. Nothing is ever silently defaulted.
// TRICOLOR_TRACE is the one row that looks at the file system: a path is
// accepted if it names a file that could be written now (an existing
// non-directory we may write, or a new name in a directory we may write);
// nothing is created until the trace is written at exit.
//
// Where we knowingly differ from the Go runtime (see options.cpp for details):
// GOGC that is negative, signed or malformed is an error (Go: off or 100);
// GODEBUG=gctrace accepts only 0 and 1 and a malformed value is an error
// (Go: ignored); "-0" is not a byte count (Go's parser accepts it).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tricolor {

inline constexpr int kGcPercentOff = -1;
inline constexpr int64_t kMemoryLimitOff = INT64_MAX;  // Go's math.MaxInt64
inline constexpr int64_t kMinHeapFloorBytes = int64_t{64} << 10;

// Thrown by Options::from_env()/from_lookup() for a malformed variable.
// what() is exactly one line.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// TRICOLOR_STRESS: both zero when off.
struct StressMode {
  uint64_t alloc_bytes = 0;  // alloc:N — a cycle every N allocated bytes
  uint64_t seed = 0;         // random:SEED
  bool operator==(const StressMode&) const = default;
};

struct Options {
  int gc_percent = 100;                           // GOGC; kGcPercentOff = off
  int64_t memory_limit_bytes = kMemoryLimitOff;   // GOMEMLIMIT (soft limit)
  bool gctrace = false;                           // GODEBUG=gctrace=1
  int64_t min_heap_bytes = int64_t{4} << 20;      // TRICOLOR_MIN_HEAP: smallest heap goal
  bool verify = false;                            // TRICOLOR_VERIFY: verify heap every collection
  bool concurrent = true;                         // TRICOLOR_MODE: concurrent | stw
  std::string trace_path;                         // TRICOLOR_TRACE: timeline file; empty = off
  int64_t hard_limit_bytes = 0;                   // TRICOLOR_HARD_LIMIT; 0 = off
  StressMode stress;                              // TRICOLOR_STRESS
  unsigned mark_workers = 0;                      // TRICOLOR_MARK_WORKERS; 0 = auto
  int idle_mark_workers = -1;                     // TRICOLOR_IDLE_MARK_WORKERS; -1 = auto

  // Reads the process environment (std::getenv). Call before other threads
  // may modify the environment. Throws ConfigError on the first malformed
  // variable, in option_table() order.
  static Options from_env();

  // Same as from_env(), but variables are looked up through getenv_fn, which
  // returns nullptr for an unset variable. An unset or empty variable leaves
  // the default.
  static Options from_lookup(const std::function<const char*(const char*)>& getenv_fn);

  bool operator==(const Options&) const = default;
};

// One row of the options table.
struct OptionSpec {
  const char* env_name;      // "GOGC"
  const char* type;          // "percent | off"
  const char* default_text;  // "100"
  const char* accepted;      // accepted forms; follows "expected " in errors
  const char* doc;           // one-line documentation
  // Parses value into opts; on failure returns false and leaves opts unchanged.
  bool (*apply)(std::string_view value, Options& opts);
};

// The table, in the order variables are read (and errors reported).
std::span<const OptionSpec> option_table();

// The table as a Markdown table: name | type | default | accepted | meaning.
std::string options_markdown();

// Individual parsers, exposed for table-driven tests.

// GOGC: "off" -> kGcPercentOff, or decimal digits in [0, 2147483647].
std::optional<int> parse_gc_percent(std::string_view text);

// Go's byte-count grammar ^[0-9]+(([KMGT]i)?B)?$, result must fit int64.
// Does not accept "off"; see parse_memory_limit.
std::optional<int64_t> parse_byte_count(std::string_view text);

// GOMEMLIMIT: "off" -> kMemoryLimitOff, or a byte count.
std::optional<int64_t> parse_memory_limit(std::string_view text);

// TRICOLOR_STRESS: "off", "alloc:<byte count>" (> 0) or "random:<seed>" (> 0).
std::optional<StressMode> parse_stress(std::string_view text);

// TRICOLOR_MIN_HEAP: a byte count of at least kMinHeapFloorBytes.
std::optional<int64_t> parse_min_heap_bytes(std::string_view text);

// TRICOLOR_TRACE: true if `path` names a file that could be written now: not
// ending in '/', and either an existing non-directory that is writable or a
// new name in an existing directory that is writable. Creates nothing.
bool is_writable_file_path(std::string_view path);

}  // namespace tricolor
