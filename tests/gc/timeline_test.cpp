// timeline_test.cpp — the TRICOLOR_TRACE recorder: what it writes (a valid
// Chrome trace-event JSON file, parsed back here by a small strict JSON
// parser), from how many threads, in which units, within which cap, and
// what it does when disabled or when the file cannot be written.
#include <doctest/doctest.h>

#include "../scratch_dir.h"
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "../../gc/timeline.h"

namespace tricolor::gc {
namespace {

// ---------------------------------------------------------------- a strict JSON parser

struct Json;
using JsonArray = std::vector<Json>;
using JsonObject = std::map<std::string, Json>;

struct Json {
  std::variant<std::nullptr_t, bool, double, std::string, JsonArray, JsonObject> value;

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(value); }
  bool has(const std::string& key) const { return object().count(key) != 0; }
  const JsonObject& object() const { return std::get<JsonObject>(value); }
  const JsonArray& array() const { return std::get<JsonArray>(value); }
  const std::string& str() const { return std::get<std::string>(value); }
  double num() const { return std::get<double>(value); }
  const Json& operator[](const std::string& key) const {
    auto found = object().find(key);
    if (found == object().end()) throw std::runtime_error("no key " + key);
    return found->second;
  }
};

// Throws std::runtime_error on anything that is not JSON (RFC 8259).
class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : text_(text) {}

  Json parse_document() {
    Json result = parse_value();
    skip_space();
    if (pos_ != text_.size()) fail("trailing text");
    return result;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(pos_));
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  char peek() {
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end");
    return text_[pos_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  bool take_literal(const char* literal) {
    const std::string_view word(literal);
    if (text_.compare(pos_, word.size(), word) != 0) return false;
    pos_ += word.size();
    return true;
  }

  Json parse_value() {
    const char c = peek();
    if (c == '{') return parse_object();
    if (c == '[') return parse_array();
    if (c == '"') return Json{parse_string()};
    if (take_literal("null")) return Json{nullptr};
    if (take_literal("true")) return Json{true};
    if (take_literal("false")) return Json{false};
    return Json{parse_number()};
  }
  Json parse_object() {
    expect('{');
    JsonObject object;
    if (peek() == '}') {
      ++pos_;
      return Json{std::move(object)};
    }
    for (;;) {
      if (peek() != '"') fail("expected a key");
      std::string key = parse_string();
      expect(':');
      if (object.count(key) != 0) fail("duplicate key " + key);
      object.emplace(std::move(key), parse_value());
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      return Json{std::move(object)};
    }
  }
  Json parse_array() {
    expect('[');
    JsonArray array;
    if (peek() == ']') {
      ++pos_;
      return Json{std::move(array)};
    }
    for (;;) {
      array.push_back(parse_value());
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      return Json{std::move(array)};
    }
  }
  std::string parse_string() {
    expect('"');
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("raw control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (pos_ + 4 > text_.size()) fail("short \\u escape");
          const unsigned code = static_cast<unsigned>(std::stoul(text_.substr(pos_, 4), nullptr, 16));
          pos_ += 4;
          if (code >= 0x80) fail("test parser handles only ASCII \\u escapes");
          out += static_cast<char>(code);
          break;
        }
        default: fail("bad escape");
      }
    }
  }
  double parse_number() {
    const size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_]))) fail("bad value");
    if (text_[pos_] == '0' && pos_ + 1 < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_ + 1]))) {
      fail("leading zero");
    }
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (pos_ >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_]))) fail("bad fraction");
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (pos_ >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_]))) fail("bad exponent");
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    return std::strtod(text_.substr(start, pos_ - start).c_str(), nullptr);
  }

  const std::string& text_;
  size_t pos_ = 0;
};

TEST_CASE("the test's JSON parser refuses what is not JSON") {
  for (const char* bad : {"{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "[01]", "[1.]", "[\"a\nb\"]", "[nan]",
                          "{\"a\":1,\"a\":2}", "[1] x"}) {
    CAPTURE(bad);
    const std::string text = bad;
    CHECK_THROWS_AS(JsonParser(text).parse_document(), std::runtime_error);
  }
  const std::string good = "{\"a\":[1.5,-2e3,null,true,\"x\\\"y\\u0041\"]}";
  const Json parsed = JsonParser(good).parse_document();
  CHECK(parsed["a"].array().size() == 5);
  CHECK(parsed["a"].array()[1].num() == -2000.0);
  CHECK(parsed["a"].array()[4].str() == "x\"yA");
}

// ---------------------------------------------------------------- helpers

std::string scratch_dir() {
  static const test::ScratchDir dir("timeline");
  return dir.path();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Trace {
  std::string text;
  Json document;
  const JsonArray& events() const { return document["traceEvents"].array(); }
  std::vector<const Json*> with_phase(const std::string& phase) const {
    std::vector<const Json*> found;
    for (const Json& event : events()) {
      if (event["ph"].str() == phase) found.push_back(&event);
    }
    return found;
  }
  // tid -> name from the "thread_name" metadata events.
  std::map<int, std::string> thread_names() const {
    std::map<int, std::string> names;
    for (const Json* event : with_phase("M")) {
      if ((*event)["name"].str() == "thread_name") {
        names[static_cast<int>((*event)["tid"].num())] = (*event)["args"]["name"].str();
      }
    }
    return names;
  }
  double dropped() const {
    for (const Json* event : with_phase("M")) {
      if ((*event)["name"].str() == "tricolor_dropped_events") return (*event)["args"]["dropped"].num();
    }
    throw std::runtime_error("no tricolor_dropped_events metadata");
  }
};

Trace read_trace(const std::string& path) {
  Trace trace;
  trace.text = read_file(path);
  trace.document = JsonParser(trace.text).parse_document();
  return trace;
}

// A clock the tests set by hand, counting its reads.
std::atomic<uint64_t> g_fake_now{0};
std::atomic<int> g_clock_reads{0};
uint64_t fake_clock() {
  g_clock_reads.fetch_add(1, std::memory_order_relaxed);
  return g_fake_now.load(std::memory_order_relaxed);
}
TimelineConfig fake_clock_config(uint64_t start_ns) {
  g_fake_now = start_ns;
  g_clock_reads = 0;
  TimelineConfig config;
  config.clock = fake_clock;
  return config;
}

// Captures what is written to file descriptor 2 while it lives.
class StderrCapture {
 public:
  StderrCapture() : path_(scratch_dir() + "/stderr-" + std::to_string(counter_++) + ".txt") {
    std::fflush(stderr);
    saved_ = ::dup(2);
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    return read_file(path_);
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  static inline int counter_ = 0;
  std::string path_;
  int saved_ = -1;
};

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

// ---------------------------------------------------------------- tests

TEST_CASE("spans, instants and counters from several threads: one valid trace in microseconds") {
  const std::string path = scratch_dir() + "/threads.json";
  static const char* const kSpanNames[] = {"span-0", "span-1", "span-2", "span-3"};
  static const char* const kThreadNames[] = {"worker-0", "worker-1", "worker-2", "worker-3"};
  constexpr int kThreads = 4;
  constexpr int kSpansEach = 300;  // more than one chunk per thread
  {
    Timeline timeline(path);
    REQUIRE(timeline.enabled());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&timeline, t] {
        timeline.name_thread(kThreadNames[t]);
        for (int i = 0; i < kSpansEach; ++i) {
          // start = t ms + i us + 1 ns, duration 1.5 us: exact in the µs text.
          const uint64_t start = uint64_t(t) * 1'000'000 + uint64_t(i) * 1'000 + 1;
          timeline.span(kSpanNames[t], "gc", start, start + 1'500);
        }
        timeline.instant("handshake", "mutator", uint64_t(t) * 1'000'000 + 7);
        timeline.counter("heap_live_bytes", uint64_t(t) * 1'000'000 + 9, 1024.0 * (t + 1));
      });
    }
    for (std::thread& thread : threads) thread.join();
    timeline.span("main-span", "gc", 2'000, 1'000);  // end before start: zero duration
    CHECK(timeline.recorded_events() == kThreads * (kSpansEach + 2) + 1);
    CHECK(timeline.dropped_events() == 0);
    REQUIRE(timeline.write());
  }
  const Trace trace = read_trace(path);
  CHECK(trace.document["displayTimeUnit"].str() == "ns");
  CHECK(trace.document["otherData"]["tricolor_dropped_events"].num() == 0);
  CHECK(trace.dropped() == 0);

  // process_name + 4 thread names + events + the dropped-events record.
  CHECK(trace.events().size() == 1 + kThreads + kThreads * (kSpansEach + 2) + 1 + 1);
  for (const Json& event : trace.events()) CHECK(event["pid"].num() == 1);

  // Each worker has its own small tid, and its thread_name says which.
  const std::map<int, std::string> names = trace.thread_names();
  REQUIRE(names.size() == kThreads);
  std::map<std::string, int> tid_of_thread;
  for (const auto& [tid, name] : names) {
    CHECK(tid >= 1);
    CHECK(tid <= kThreads + 1);
    tid_of_thread[name] = tid;
  }
  REQUIRE(tid_of_thread.size() == kThreads);

  std::map<std::string, int> spans_per_name;
  for (const Json* span : trace.with_phase("X")) {
    const std::string name = (*span)["name"].str();
    CHECK((*span)["cat"].str() == "gc");
    if (name == "main-span") {
      CHECK((*span)["ts"].num() == 2.0);
      CHECK((*span)["dur"].num() == 0.0);
      CHECK(names.count(static_cast<int>((*span)["tid"].num())) == 0);  // main is unnamed
      continue;
    }
    const int t = name.back() - '0';
    REQUIRE(t >= 0);
    REQUIRE(t < kThreads);
    CHECK((*span)["tid"].num() == tid_of_thread["worker-" + std::to_string(t)]);
    CHECK((*span)["dur"].num() == 1.5);  // µs, not ns
    const double ts = (*span)["ts"].num();
    const double i = std::round((ts - t * 1000.0 - 0.001));  // start in µs = t*1000 + i + 0.001
    CHECK(ts == (uint64_t(t) * 1'000'000 + uint64_t(i) * 1'000 + 1) / 1000.0);
    ++spans_per_name[name];
  }
  CHECK(spans_per_name.size() == kThreads);
  for (const auto& [name, count] : spans_per_name) CHECK(count == kSpansEach);
  // The text itself: three decimals, ns exact.
  CHECK(trace.text.find("\"ts\":1000.001,\"dur\":1.500") != std::string::npos);

  const auto instants = trace.with_phase("i");
  REQUIRE(instants.size() == kThreads);
  for (const Json* instant : instants) {
    CHECK((*instant)["name"].str() == "handshake");
    CHECK((*instant)["cat"].str() == "mutator");
    CHECK((*instant)["s"].str() == "t");
    const int tid = static_cast<int>((*instant)["tid"].num());
    const int t = names.at(tid).back() - '0';
    CHECK((*instant)["ts"].num() == (uint64_t(t) * 1'000'000 + 7) / 1000.0);
  }
  const auto counters = trace.with_phase("C");
  REQUIRE(counters.size() == kThreads);
  for (const Json* counter : counters) {
    CHECK((*counter)["name"].str() == "heap_live_bytes");
    const int t = names.at(static_cast<int>((*counter)["tid"].num())).back() - '0';
    CHECK((*counter)["args"]["value"].num() == 1024.0 * (t + 1));
    CHECK((*counter)["ts"].num() == (uint64_t(t) * 1'000'000 + 9) / 1000.0);
  }
}

TEST_CASE("now_ns starts at the origin; Scope records construction to destruction") {
  const std::string path = scratch_dir() + "/scope.json";
  {
    Timeline timeline(path, fake_clock_config(5'000'000'000));
    CHECK(g_clock_reads == 1);  // the origin
    g_fake_now = 5'000'000'000 + 2'500;
    CHECK(timeline.now_ns() == 2'500);
    {
      Timeline::Scope outer(timeline, "outer", "gc");
      g_fake_now += 1'000;
      {
        Timeline::Scope inner(timeline, "inner", "gc");
        g_fake_now += 250;
      }
      g_fake_now += 4'000'000;
    }
    CHECK(g_clock_reads == 1 + 1 + 4);
    CHECK(timeline.recorded_events() == 2);
  }
  const Trace trace = read_trace(path);
  const auto spans = trace.with_phase("X");
  REQUIRE(spans.size() == 2);
  // Inner ended (was recorded) first, but the enclosing span is written first.
  CHECK((*spans[0])["name"].str() == "outer");
  CHECK((*spans[0])["ts"].num() == 2.5);
  CHECK((*spans[0])["dur"].num() == 4001.25);
  CHECK((*spans[1])["name"].str() == "inner");
  CHECK((*spans[1])["ts"].num() == 3.5);
  CHECK((*spans[1])["dur"].num() == 0.25);
  CHECK((*spans[0])["tid"].num() == (*spans[1])["tid"].num());
}

TEST_CASE("spans that start together are written longest first (the enclosing one)") {
  const std::string path = scratch_dir() + "/same-start.json";
  {
    Timeline timeline(path);
    timeline.span("inner", "gc", 10'000, 20'000);  // recorded first, as a Scope would
    timeline.instant("mark", "gc", 10'000);
    timeline.span("outer", "gc", 10'000, 50'000);
  }
  const Trace trace = read_trace(path);
  REQUIRE(trace.events().size() == 5);  // process_name, 3 events, dropped-events
  CHECK(trace.events()[1]["name"].str() == "outer");
  CHECK(trace.events()[2]["name"].str() == "inner");
  CHECK(trace.events()[3]["name"].str() == "mark");
}

TEST_CASE("a given origin is ts 0") {
  TimelineConfig config;
  config.origin = std::chrono::steady_clock::now() - std::chrono::milliseconds(50);
  Timeline timeline(scratch_dir() + "/origin.json", config);
  const uint64_t now = timeline.now_ns();
  CHECK(now >= 50'000'000);
  CHECK(now < 50'000'000 + 60'000'000'000ull);
}

TEST_CASE("a disabled timeline records nothing, reads no clock and writes no file") {
  const std::string path = scratch_dir() + "/disabled.json";
  Timeline timeline("", fake_clock_config(1'000));
  Timeline default_constructed;
  for (Timeline* t : {&timeline, &default_constructed}) {
    CHECK_FALSE(t->enabled());
    t->name_thread("nobody");
    t->span("s", "gc", 1, 2);
    t->instant("i", "gc", 1);
    t->counter("c", 1, 1.0);
    { Timeline::Scope scope(*t, "scope", "gc"); }
    CHECK(t->now_ns() == 0);
    CHECK(t->recorded_events() == 0);
    CHECK(t->dropped_events() == 0);
    CHECK_FALSE(t->write());
  }
  CHECK(g_clock_reads == 0);
  CHECK_FALSE(std::filesystem::exists(path));

  // The same calls on an enabled timeline do read the clock and record.
  Timeline enabled(path, fake_clock_config(1'000));
  { Timeline::Scope scope(enabled, "scope", "gc"); }
  CHECK(g_clock_reads == 3);
  CHECK(enabled.recorded_events() == 1);
}

TEST_CASE("an unwritable path is reported once on stderr, naming TRICOLOR_TRACE and the path") {
  // Directories cannot be opened for writing, even by root.
  for (const std::string& path : {scratch_dir(), scratch_dir() + "/no-such-dir/trace.json"}) {
    CAPTURE(path);
    StderrCapture capture;
    {
      Timeline timeline(path);
      timeline.span("s", "gc", 1, 2);
      CHECK_FALSE(timeline.write());
      CHECK_FALSE(timeline.write());
    }  // the destructor tries again, silently
    const std::string text = capture.text();
    CHECK(count_of(text, "TRICOLOR_TRACE") == 1);
    CHECK(text.find("\"" + path + "\"") != std::string::npos);
    CHECK(text.find("tricolor: ") == 0);
    CHECK(count_of(text, "\n") == 1);
  }
  CHECK_FALSE(std::filesystem::exists(scratch_dir() + "/no-such-dir"));
}

TEST_CASE("a writable path produces no message") {
  StderrCapture capture;
  {
    Timeline timeline(scratch_dir() + "/quiet.json");
    timeline.span("s", "gc", 1, 2);
    CHECK(timeline.write());
  }
  CHECK(capture.text().empty());
}

TEST_CASE("the event cap keeps max_events events and counts the dropped ones") {
  SUBCASE("one thread, exact") {
    const std::string path = scratch_dir() + "/cap1.json";
    {
      TimelineConfig config;
      config.max_events = 10;
      Timeline timeline(path, config);
      for (int i = 0; i < 20; ++i) timeline.span("s", "gc", uint64_t(i) * 1000, uint64_t(i) * 1000 + 10);
      for (int i = 0; i < 3; ++i) timeline.instant("i", "gc", 5);
      for (int i = 0; i < 2; ++i) timeline.counter("c", 5, 1.0);
      CHECK(timeline.recorded_events() == 10);
      CHECK(timeline.dropped_events() == 15);
    }
    const Trace trace = read_trace(path);
    const auto spans = trace.with_phase("X");
    CHECK(spans.size() == 10);
    CHECK(trace.with_phase("i").empty());
    CHECK(trace.with_phase("C").empty());
    CHECK((*spans.back())["ts"].num() == 9.0);  // the first ten are kept
    CHECK(trace.dropped() == 15);
    CHECK(trace.document["otherData"]["tricolor_dropped_events"].num() == 15);
    CHECK(trace.document["otherData"]["tricolor_max_events"].num() == 10);
  }
  SUBCASE("several threads share the cap") {
    const std::string path = scratch_dir() + "/cap4.json";
    constexpr int kThreads = 4;
    constexpr int kEach = 1000;
    {
      TimelineConfig config;
      config.max_events = 1000;
      Timeline timeline(path, config);
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&timeline] {
          for (int i = 0; i < kEach; ++i) timeline.span("s", "gc", uint64_t(i), uint64_t(i) + 1);
        });
      }
      for (std::thread& thread : threads) thread.join();
      // Every thread fills the slots it reserved, so the cap is reached exactly.
      CHECK(timeline.recorded_events() == 1000);
      CHECK(timeline.dropped_events() == kThreads * kEach - 1000);
    }
    const Trace trace = read_trace(path);
    CHECK(trace.with_phase("X").size() == 1000);
    CHECK(trace.dropped() == kThreads * kEach - 1000);
  }
}

TEST_CASE("write() may run while threads record; the final file has everything") {
  const std::string path = scratch_dir() + "/concurrent.json";
  constexpr int kThreads = 6;
  constexpr int kEach = 5000;
  Timeline timeline(path);
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&timeline, &started] {
      timeline.name_thread("recorder");
      started.fetch_add(1);
      for (int i = 0; i < kEach; ++i) {
        Timeline::Scope scope(timeline, "work", "assist");
        if (i % 100 == 0) timeline.counter("progress", timeline.now_ns(), i);
      }
    });
  }
  while (started.load() < kThreads) std::this_thread::yield();
  for (int round = 0; round < 5; ++round) {
    REQUIRE(timeline.write());
    const Trace partial = read_trace(path);  // every snapshot is valid JSON
    CHECK(partial.with_phase("X").size() <= size_t(kThreads) * kEach);
  }
  for (std::thread& thread : threads) thread.join();
  REQUIRE(timeline.write());
  const Trace trace = read_trace(path);
  CHECK(trace.with_phase("X").size() == size_t(kThreads) * kEach);
  CHECK(trace.with_phase("C").size() == size_t(kThreads) * (kEach / 100));
  CHECK(trace.thread_names().size() == kThreads);
}

TEST_CASE("every thread gets its own sequential tid, even when thread ids are reused") {
  const std::string path = scratch_dir() + "/tids.json";
  constexpr int kThreads = 40;
  {
    Timeline timeline(path);
    for (int t = 0; t < kThreads; ++t) {
      std::thread([&timeline] { timeline.instant("hello", "test", 1); }).join();  // ids get reused
    }
    timeline.instant("main", "test", 2);
  }
  const Trace trace = read_trace(path);
  std::set<int> tids;
  for (const Json* event : trace.with_phase("i")) tids.insert(static_cast<int>((*event)["tid"].num()));
  CHECK(tids.size() == kThreads + 1);
  CHECK(*tids.begin() == 1);
  CHECK(*tids.rbegin() == kThreads + 1);
}

TEST_CASE("one thread recording into two timelines keeps them apart") {
  const std::string path_a = scratch_dir() + "/a.json";
  const std::string path_b = scratch_dir() + "/b.json";
  {
    Timeline a(path_a);
    Timeline b(path_b);
    std::thread([&] { a.instant("other-thread", "test", 1); }).join();  // a's tid 1
    for (int i = 0; i < 3; ++i) {
      a.instant("in-a", "test", 1);
      b.instant("in-b", "test", 1);
    }
    CHECK(a.recorded_events() == 4);
    CHECK(b.recorded_events() == 3);
  }
  const Trace a = read_trace(path_a);
  const Trace b = read_trace(path_b);
  std::set<int> a_main_tids;
  for (const Json* event : a.with_phase("i")) {
    if ((*event)["name"].str() == "in-a") a_main_tids.insert(static_cast<int>((*event)["tid"].num()));
    CHECK((*event)["name"].str() != "in-b");
  }
  CHECK(a_main_tids == std::set<int>{2});
  REQUIRE(b.with_phase("i").size() == 3);
  for (const Json* event : b.with_phase("i")) {
    CHECK((*event)["name"].str() == "in-b");
    CHECK((*event)["tid"].num() == 1);
  }
}

TEST_CASE("a new timeline does not reuse a destroyed one's per-thread buffer") {
  // Same thread, same stack slot, likely the same address: the thread_local
  // cache is keyed by an id that is never reused.
  for (int round = 0; round < 3; ++round) {
    const std::string path = scratch_dir() + "/round-" + std::to_string(round) + ".json";
    {
      Timeline timeline(path);
      timeline.instant("only", "test", uint64_t(round));
      CHECK(timeline.recorded_events() == 1);
    }
    const Trace trace = read_trace(path);
    REQUIRE(trace.with_phase("i").size() == 1);
    CHECK((*trace.with_phase("i")[0])["tid"].num() == 1);
  }
}

TEST_CASE("names are JSON-escaped; non-finite counter values are written as null") {
  const std::string path = scratch_dir() + "/escape.json";
  {
    Timeline timeline(path);
    timeline.name_thread("first");
    timeline.name_thread("quote\" back\\slash\nnew\tline\x01");  // renames
    timeline.span("a \"quoted\" span", "c\\at", 1, 2);
    timeline.counter("nan", 3, std::nan(""));
    timeline.counter("inf", 3, HUGE_VAL);
    timeline.counter("big", 3, 1e300);
    timeline.counter("fraction", 3, 0.1);
  }
  const Trace trace = read_trace(path);
  const auto names = trace.thread_names();
  REQUIRE(names.size() == 1);
  CHECK(names.begin()->second == "quote\" back\\slash\nnew\tline\x01");
  REQUIRE(trace.with_phase("X").size() == 1);
  CHECK((*trace.with_phase("X")[0])["name"].str() == "a \"quoted\" span");
  CHECK((*trace.with_phase("X")[0])["cat"].str() == "c\\at");
  std::map<std::string, const Json*> counters;
  for (const Json* counter : trace.with_phase("C")) counters[(*counter)["name"].str()] = counter;
  REQUIRE(counters.size() == 4);
  CHECK((*counters["nan"])["args"]["value"].is_null());
  CHECK((*counters["inf"])["args"]["value"].is_null());
  CHECK((*counters["big"])["args"]["value"].num() == 1e300);
  CHECK((*counters["fraction"])["args"]["value"].num() == 0.1);
}

}  // namespace
}  // namespace tricolor::gc
