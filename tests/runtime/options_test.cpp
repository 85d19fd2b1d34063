// options_test.cpp — tests for the environment options table (runtime/options.h).
//
// Owns: the accepted/rejected tables for every parser and the behaviour of
// Options::from_lookup(). Invariant kept under test: an Options only ever
// holds parser-approved values, and every refusal is a one-line ConfigError
// that names the variable, echoes the value and lists the accepted forms.
#include <doctest/doctest.h>

#include "../scratch_dir.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "../../runtime/options.h"

namespace tricolor {
namespace {

// A fake environment for from_lookup(); a missing key is an unset variable.
class FakeEnv {
 public:
  FakeEnv(std::initializer_list<std::pair<const std::string, std::string>> vars) : vars_(vars) {}

  std::function<const char*(const char*)> lookup() const {
    return [this](const char* name) -> const char* {
      auto it = vars_.find(name);
      return it == vars_.end() ? nullptr : it->second.c_str();
    };
  }

  Options options() const { return Options::from_lookup(lookup()); }

 private:
  std::map<std::string, std::string> vars_;
};

std::string config_error_of(const FakeEnv& env) {
  try {
    env.options();
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "<no ConfigError thrown>";
}

// A value every row refuses: "gctrace=bogus" is malformed for every row but
// TRICOLOR_TRACE, where it is a well-formed relative path; there a file in
// a directory that does not exist is refused instead.
std::string malformed_value(const OptionSpec& spec) {
  if (std::string_view(spec.env_name) == "TRICOLOR_TRACE") return "/nonexistent-tricolor-dir/gctrace=bogus";
  return "gctrace=bogus";
}

const OptionSpec* spec_named(std::string_view env_name) {
  for (const OptionSpec& spec : option_table()) {
    if (spec.env_name == env_name) return &spec;
  }
  return nullptr;
}

template <typename T>
struct Accepted {
  const char* input;
  T expected;
};

std::string scratch_dir() {
  static const test::ScratchDir dir("options");
  return dir.path();
}

constexpr int64_t kKiB = int64_t{1} << 10;
constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kGiB = int64_t{1} << 30;
constexpr int64_t kTiB = int64_t{1} << 40;

// ---------------------------------------------------------------- GOGC

TEST_CASE("parse_gc_percent accepts off and decimal percentages up to int32 max") {
  const Accepted<int> cases[] = {
      {"off", kGcPercentOff}, {"0", 0},         {"1", 1}, {"100", 100},
      {"007", 7},             {"2147483647", 2147483647},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    const std::optional<int> parsed = parse_gc_percent(c.input);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == c.expected);
  }
}

TEST_CASE("parse_gc_percent rejects signs, spaces, overflow, case variants and empty") {
  const char* const cases[] = {
      "2147483648", "99999999999999999999", "-1", "-0", "+1", " 1", "1 ", "",
      "OFF",        "Off",                  "off ", "1.5", "1e3", "abc", "100%",
  };
  for (const char* input : cases) {
    CAPTURE(input);
    CHECK_FALSE(parse_gc_percent(input).has_value());
  }
}

// ---------------------------------------------------------------- byte counts

TEST_CASE("parse_memory_limit accepts off and Go's byte-count grammar") {
  const Accepted<int64_t> cases[] = {
      {"off", kMemoryLimitOff},
      {"0", 0},
      {"0B", 0},
      {"1", 1},
      {"1B", 1},
      {"1KiB", kKiB},
      {"3MiB", 3 * kMiB},
      {"2GiB", 2 * kGiB},
      {"1TiB", kTiB},
      {"8388607TiB", 8388607 * kTiB},
      {"9223372036854775807", INT64_MAX},
      {"9223372036854775807B", INT64_MAX},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    const std::optional<int64_t> parsed = parse_memory_limit(c.input);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == c.expected);
  }
}

TEST_CASE("parse_memory_limit rejects other units, case variants, signs and overflow") {
  const char* const cases[] = {
      "8388608TiB", "9223372036854775808", "9007199254740992KiB", "MB",  "12MB", "1kib",
      "1KB",        "1K",                  "1k",                  "1iB", "1.5GiB", "GiB",
      "B",          "-5",                  "-0",                  "+1",  " 1",  "1 ",
      "1 MiB",      "OFF",                 "Off",                 "",    "1PiB", "1MiBB",
  };
  for (const char* input : cases) {
    CAPTURE(input);
    CHECK_FALSE(parse_memory_limit(input).has_value());
  }
}

TEST_CASE("parse_byte_count is the bare grammar: off is not a byte count") {
  CHECK_FALSE(parse_byte_count("off").has_value());
  REQUIRE(parse_byte_count("5MiB").has_value());
  CHECK(*parse_byte_count("5MiB") == 5 * kMiB);
}

TEST_CASE("parse_min_heap_bytes requires at least 64KiB and no off") {
  const Accepted<int64_t> accepted[] = {
      {"64KiB", 64 * kKiB}, {"65536", 65536}, {"4MiB", 4 * kMiB}, {"1GiB", kGiB}};
  for (const auto& c : accepted) {
    CAPTURE(c.input);
    const std::optional<int64_t> parsed = parse_min_heap_bytes(c.input);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == c.expected);
  }
  const char* const rejected[] = {"65535", "63KiB", "0", "1B", "off", "", "4MB"};
  for (const char* input : rejected) {
    CAPTURE(input);
    CHECK_FALSE(parse_min_heap_bytes(input).has_value());
  }
}

// ---------------------------------------------------------------- from_lookup

TEST_CASE("from_lookup with nothing set yields the documented defaults") {
  const Options opts = FakeEnv{}.options();
  CHECK(opts.gc_percent == 100);
  CHECK(opts.memory_limit_bytes == kMemoryLimitOff);
  CHECK_FALSE(opts.gctrace);
  CHECK(opts.min_heap_bytes == 4 * kMiB);
  CHECK_FALSE(opts.verify);
  CHECK(opts.trace_path.empty());
}

TEST_CASE("from_lookup treats an empty variable as unset") {
  const Options opts = FakeEnv{{"GOGC", ""},
                               {"GOMEMLIMIT", ""},
                               {"GODEBUG", ""},
                               {"TRICOLOR_MIN_HEAP", ""},
                               {"TRICOLOR_VERIFY", ""},
                               {"TRICOLOR_MODE", ""},
                               {"TRICOLOR_TRACE", ""}}
                           .options();
  CHECK(opts == Options{});
}

TEST_CASE("from_lookup applies each variable") {
  SUBCASE("GOGC number") { CHECK(FakeEnv{{"GOGC", "50"}}.options().gc_percent == 50); }
  SUBCASE("GOGC off") { CHECK(FakeEnv{{"GOGC", "off"}}.options().gc_percent == kGcPercentOff); }
  SUBCASE("GOGC zero") { CHECK(FakeEnv{{"GOGC", "0"}}.options().gc_percent == 0); }
  SUBCASE("GOMEMLIMIT") {
    CHECK(FakeEnv{{"GOMEMLIMIT", "512MiB"}}.options().memory_limit_bytes == 512 * kMiB);
  }
  SUBCASE("GOMEMLIMIT off") {
    CHECK(FakeEnv{{"GOMEMLIMIT", "off"}}.options().memory_limit_bytes == kMemoryLimitOff);
  }
  SUBCASE("TRICOLOR_MIN_HEAP") {
    CHECK(FakeEnv{{"TRICOLOR_MIN_HEAP", "16MiB"}}.options().min_heap_bytes == 16 * kMiB);
  }
  SUBCASE("TRICOLOR_VERIFY=1") { CHECK(FakeEnv{{"TRICOLOR_VERIFY", "1"}}.options().verify); }
  SUBCASE("TRICOLOR_VERIFY=0") { CHECK_FALSE(FakeEnv{{"TRICOLOR_VERIFY", "0"}}.options().verify); }
  SUBCASE("TRICOLOR_MODE=stw") { CHECK_FALSE(FakeEnv{{"TRICOLOR_MODE", "stw"}}.options().concurrent); }
  SUBCASE("TRICOLOR_MODE=concurrent") { CHECK(FakeEnv{{"TRICOLOR_MODE", "concurrent"}}.options().concurrent); }
  SUBCASE("TRICOLOR_TRACE") {
    const std::string path = scratch_dir() + "/gc.json";
    CHECK(FakeEnv{{"TRICOLOR_TRACE", path}}.options().trace_path == path);
  }
  SUBCASE("all together") {
    const Options opts = FakeEnv{{"GOGC", "200"},
                                 {"GOMEMLIMIT", "1GiB"},
                                 {"GODEBUG", "gctrace=1"},
                                 {"TRICOLOR_MIN_HEAP", "1MiB"},
                                 {"TRICOLOR_VERIFY", "1"}}
                             .options();
    CHECK(opts.gc_percent == 200);
    CHECK(opts.memory_limit_bytes == kGiB);
    CHECK(opts.gctrace);
    CHECK(opts.min_heap_bytes == kMiB);
    CHECK(opts.verify);
  }
}

TEST_CASE("GODEBUG: gctrace is read from a comma-separated key=value list") {
  const Accepted<bool> cases[] = {
      {"gctrace=1", true},
      {"gctrace=0", false},
      {"foo=bar,gctrace=1", true},
      {"gctrace=1,madvdontneed=1", true},
      {",,gctrace=1,", true},
      {"gctrace", false},                // no '=': ignored, as in Go
      {"gctrace,foo=1", false},          // no '=': ignored, as in Go
      {"madvdontneed=1", false},         // unknown keys are ignored
      {"gctrace=1,gctrace=0", false},    // the last setting wins, as in Go
      {"gctrace=0,gctrace=1", true},
      {"xgctrace=2,gctrace2=7", false},  // only the exact key counts
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    CHECK(FakeEnv{{"GODEBUG", c.input}}.options().gctrace == c.expected);
  }
}

TEST_CASE("GODEBUG: a gctrace value other than 0 or 1 is refused") {
  const char* const cases[] = {"gctrace=2", "gctrace=", "gctrace=yes", "foo=bar,gctrace=-1",
                               "gctrace=1,gctrace=2", "gctrace= 1"};
  for (const char* input : cases) {
    CAPTURE(input);
    const std::string message = config_error_of(FakeEnv{{"GODEBUG", input}});
    CHECK(message.find("GODEBUG") != std::string::npos);
    CHECK(message.find("gctrace") != std::string::npos);
    CHECK(message.find("0 or 1") != std::string::npos);
  }
}

TEST_CASE("TRICOLOR_MODE accepts only concurrent and stw") {
  for (const char* bad : {"", "STW", "parallel", "stw ", "1"}) {
    CAPTURE(bad);
    if (*bad == '\0') continue;  // empty means unset
    const FakeEnv env{{"TRICOLOR_MODE", bad}};
    CHECK_THROWS_AS(env.options(), ConfigError);
  }
  try {
    FakeEnv{{"TRICOLOR_MODE", "fast"}}.options();
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    CHECK(message.find("TRICOLOR_MODE") != std::string::npos);
    CHECK(message.find("concurrent or stw") != std::string::npos);
  }
}

TEST_CASE("TRICOLOR_TRACE accepts a file that could be written and creates nothing") {
  const std::string dir = scratch_dir();
  const std::string fresh = dir + "/new-trace.json";
  CHECK(is_writable_file_path(fresh));
  CHECK_FALSE(std::filesystem::exists(fresh));  // checking did not create it
  const std::string existing = dir + "/existing.json";
  std::ofstream(existing) << "old";
  CHECK(is_writable_file_path(existing));
  CHECK(is_writable_file_path("relative-trace.json"));  // in the working directory
  CHECK_FALSE(std::filesystem::exists("relative-trace.json"));

  CHECK_FALSE(is_writable_file_path(""));
  CHECK_FALSE(is_writable_file_path(dir));                    // a directory
  CHECK_FALSE(is_writable_file_path(dir + "/"));              // names a directory
  CHECK_FALSE(is_writable_file_path(dir + "/missing/x.json"));  // no such directory
  CHECK_FALSE(is_writable_file_path(existing + "/x.json"));   // parent is a file

  const std::string message = config_error_of(FakeEnv{{"TRICOLOR_TRACE", dir + "/missing/x.json"}});
  CHECK(message == "tricolor: invalid TRICOLOR_TRACE=\"" + dir +
                       "/missing/x.json\": expected a writable file path (e.g. /tmp/gc.json)");
}

TEST_CASE("TRICOLOR_VERIFY accepts only 0 and 1") {
  const char* const cases[] = {"2", "true", "yes", " 1", "01"};
  for (const char* input : cases) {
    CAPTURE(input);
    const FakeEnv env{{"TRICOLOR_VERIFY", input}};
    CHECK_THROWS_AS(env.options(), ConfigError);
  }
}

// ---------------------------------------------------------------- errors

TEST_CASE("the error names the variable, echoes the value and lists accepted forms") {
  CHECK(config_error_of(FakeEnv{{"GOMEMLIMIT", "12MB"}}) ==
        "tricolor: invalid GOMEMLIMIT=\"12MB\": expected off or a decimal byte count with an "
        "optional unit B, KiB, MiB, GiB or TiB (e.g. 512MiB)");

  for (const OptionSpec& spec : option_table()) {
    CAPTURE(spec.env_name);
    const std::string bad = malformed_value(spec);
    const std::string message = config_error_of(FakeEnv{{spec.env_name, bad}});
    CHECK(message.starts_with("tricolor: invalid "));
    CHECK(message.find(std::string(spec.env_name) + "=\"" + bad + "\"") != std::string::npos);
    CHECK(message.ends_with(std::string("expected ") + spec.accepted));
  }
}

TEST_CASE("the GOGC error explains that Go would silently fall back to 100") {
  const std::string message = config_error_of(FakeEnv{{"GOGC", "-1"}});
  CHECK(message.find("GOGC=\"-1\"") != std::string::npos);
  CHECK(message.find("off") != std::string::npos);
  CHECK(message.find("100") != std::string::npos);
}

TEST_CASE("TRICOLOR_MIN_HEAP below the floor is refused with the reason") {
  const std::string message = config_error_of(FakeEnv{{"TRICOLOR_MIN_HEAP", "32KiB"}});
  CHECK(message.find("TRICOLOR_MIN_HEAP=\"32KiB\"") != std::string::npos);
  CHECK(message.find("at least 64KiB") != std::string::npos);
}

TEST_CASE("the error stays on one line even for a value with control characters") {
  const std::string message = config_error_of(FakeEnv{{"GOGC", "1\n2\"3\\"}});
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find("GOGC=\"1\\x0a2\\\"3\\\\\"") != std::string::npos);
}

TEST_CASE("the first malformed variable in table order is the one reported") {
  const std::string message =
      config_error_of(FakeEnv{{"TRICOLOR_VERIFY", "maybe"}, {"GOGC", "lots"}, {"GOMEMLIMIT", "1MB"}});
  CHECK(message.find("GOGC=\"lots\"") != std::string::npos);
  CHECK(message.find("GOMEMLIMIT") == std::string::npos);
  CHECK(message.find("TRICOLOR_VERIFY") == std::string::npos);

  // A good variable earlier in the table does not hide a later bad one.
  CHECK_THROWS_AS(FakeEnv({{"GOGC", "50"}, {"TRICOLOR_VERIFY", "maybe"}}).options(), ConfigError);
}

// ---------------------------------------------------------------- the table

TEST_CASE("every row is complete, its default parses to the default, and failure changes nothing") {
  const Options defaults;
  for (const OptionSpec& spec : option_table()) {
    CAPTURE(spec.env_name);
    REQUIRE(spec.env_name != nullptr);
    REQUIRE(spec.type != nullptr);
    REQUIRE(spec.default_text != nullptr);
    REQUIRE(spec.accepted != nullptr);
    REQUIRE(spec.doc != nullptr);
    const bool has_apply = spec.apply != nullptr;
    REQUIRE(has_apply);

    Options from_default_text;
    CHECK(spec.apply(spec.default_text, from_default_text));
    CHECK(from_default_text == defaults);

    Options changed;
    changed.gc_percent = 7;
    changed.memory_limit_bytes = 123 * kMiB;
    changed.gctrace = true;
    changed.min_heap_bytes = 8 * kMiB;
    changed.verify = true;
    changed.trace_path = "/tmp/gc.json";
    const Options before = changed;
    CHECK_FALSE(spec.apply(malformed_value(spec), changed));
    CHECK(changed == before);
  }
}

TEST_CASE("a row's apply changes only its own field") {
  const OptionSpec* memory_limit = spec_named("GOMEMLIMIT");
  REQUIRE(memory_limit != nullptr);
  Options opts;
  CHECK(memory_limit->apply("2GiB", opts));
  Options expected;
  expected.memory_limit_bytes = 2 * kGiB;
  CHECK(opts == expected);
}

TEST_CASE("options_markdown renders every row as a five-column Markdown table") {
  const std::string markdown = options_markdown();
  for (const OptionSpec& spec : option_table()) {
    CAPTURE(spec.env_name);
    CHECK(markdown.find(std::string("`") + spec.env_name + "`") != std::string::npos);
  }
  CHECK(markdown.starts_with("| name | type | default | accepted | meaning |\n"));

  size_t line_count = 0;
  size_t line_start = 0;
  while (line_start < markdown.size()) {
    const size_t line_end = markdown.find('\n', line_start);
    REQUIRE(line_end != std::string::npos);
    const std::string_view line(markdown.data() + line_start, line_end - line_start);
    size_t unescaped_pipes = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++unescaped_pipes;
    }
    CAPTURE(line);
    CHECK(unescaped_pipes == 6);
    ++line_count;
    line_start = line_end + 1;
  }
  CHECK(line_count == option_table().size() + 2);
}

// ---------------------------------------------------------------- from_env

// Blanks every table variable (empty counts as unset) for the guard's
// lifetime, so the host environment cannot leak in, then restores them.
class ScopedOptionEnv {
 public:
  ScopedOptionEnv() {
    for (const OptionSpec& spec : option_table()) {
      const char* old = std::getenv(spec.env_name);
      saved_[spec.env_name] = old ? std::optional<std::string>(old) : std::nullopt;
      ::setenv(spec.env_name, "", 1);
    }
  }
  ~ScopedOptionEnv() {
    for (const auto& [name, old_value] : saved_) {
      if (old_value) {
        ::setenv(name.c_str(), old_value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  ScopedOptionEnv(const ScopedOptionEnv&) = delete;
  ScopedOptionEnv& operator=(const ScopedOptionEnv&) = delete;

  void set(const char* name, const char* value) { ::setenv(name, value, 1); }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST_CASE("from_env reads the process environment") {
  ScopedOptionEnv env;
  CHECK(Options::from_env() == Options{});

  env.set("GOGC", "off");
  env.set("TRICOLOR_VERIFY", "1");
  const Options opts = Options::from_env();
  CHECK(opts.gc_percent == kGcPercentOff);
  CHECK(opts.verify);

  env.set("GOGC", "OFF");
  CHECK_THROWS_AS(Options::from_env(), ConfigError);
}

}  // namespace
}  // namespace tricolor

namespace tricolor {
namespace {

TEST_CASE("TRICOLOR_STRESS: off, alloc:<bytes>, random:<seed>") {
  CHECK(parse_stress("off") == StressMode{});
  CHECK(parse_stress("alloc:1MiB") == StressMode{1 << 20, 0});
  CHECK(parse_stress("alloc:4096") == StressMode{4096, 0});
  CHECK(parse_stress("random:42") == StressMode{0, 42});
  for (const char* bad : {"", "on", "alloc:", "alloc:0", "alloc:1MB", "alloc:-1", "random:", "random:0",
                          "random:x", "random:-3", "random:123456789012345678901", "ALLOC:1"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_stress(bad).has_value());
  }
  const OptionSpec* spec = nullptr;
  for (const OptionSpec& s : option_table())
    if (std::string_view(s.env_name) == "TRICOLOR_STRESS") spec = &s;
  REQUIRE(spec != nullptr);
  Options opts;
  CHECK(spec->apply("random:7", opts));
  CHECK(opts.stress.seed == 7);
}

TEST_CASE("TRICOLOR_MARK_WORKERS: auto or 1..256") {
  const OptionSpec* spec = nullptr;
  for (const OptionSpec& s : option_table())
    if (std::string_view(s.env_name) == "TRICOLOR_MARK_WORKERS") spec = &s;
  REQUIRE(spec != nullptr);
  Options opts;
  CHECK(spec->apply("3", opts));
  CHECK(opts.mark_workers == 3);
  CHECK(spec->apply("auto", opts));
  CHECK(opts.mark_workers == 0);
  for (const char* bad : {"0", "257", "-1", "two", "1.5", "1000", " 2"}) {
    CAPTURE(bad);
    CHECK_FALSE(spec->apply(bad, opts));
  }
  CHECK(opts.mark_workers == 0);
}

TEST_CASE("TRICOLOR_HARD_LIMIT: off or a byte count") {
  const OptionSpec* spec = nullptr;
  for (const OptionSpec& s : option_table())
    if (std::string_view(s.env_name) == "TRICOLOR_HARD_LIMIT") spec = &s;
  REQUIRE(spec != nullptr);
  Options opts;
  CHECK(spec->apply("2GiB", opts));
  CHECK(opts.hard_limit_bytes == int64_t{2} << 30);
  CHECK(spec->apply("off", opts));
  CHECK(opts.hard_limit_bytes == 0);
  CHECK_FALSE(spec->apply("2GB", opts));
  CHECK(opts.hard_limit_bytes == 0);  // unchanged by a refused value
}

TEST_CASE("TRICOLOR_IDLE_MARK_WORKERS: auto or 0..256") {
  const OptionSpec* spec = nullptr;
  for (const OptionSpec& s : option_table())
    if (std::string_view(s.env_name) == "TRICOLOR_IDLE_MARK_WORKERS") spec = &s;
  REQUIRE(spec != nullptr);
  Options opts;
  CHECK(opts.idle_mark_workers == -1);
  CHECK(spec->apply("0", opts));
  CHECK(opts.idle_mark_workers == 0);
  CHECK(spec->apply("12", opts));
  CHECK(opts.idle_mark_workers == 12);
  CHECK(spec->apply("auto", opts));
  CHECK(opts.idle_mark_workers == -1);
  for (const char* bad : {"257", "-1", "none", "", "1e3"}) {
    CAPTURE(bad);
    CHECK_FALSE(spec->apply(bad, opts));
  }
  CHECK(opts.idle_mark_workers == -1);
}

TEST_CASE("the README's options table is the options table") {
  const char* readme_path = std::getenv("TRICOLOR_README");
  REQUIRE_MESSAGE(readme_path != nullptr, "run through meson test, which sets TRICOLOR_README");
  std::ifstream readme(readme_path);
  REQUIRE(readme.good());
  const std::string text((std::istreambuf_iterator<char>(readme)), std::istreambuf_iterator<char>());
  const std::string table = options_markdown();
  INFO("README.md should contain, verbatim:\n" << table);
  CHECK(text.find(table) != std::string::npos);
}

}  // namespace
}  // namespace tricolor
