// test_types.h — managed types shared by the gc test suites.
#pragma once

#include <tricolor/tricolor.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace test {

// A node with two strong edges and a payload; destructor-free.
struct Node {
  tricolor::Member<Node> left, right;
  int64_t payload = 0;
  explicit Node(int64_t p = 0) : payload(p) {}
  void trace(tricolor::Visitor& v) const {
    v.visit(left);
    v.visit(right);
  }
};

// Counts constructions and destructions, to observe what was reclaimed.
struct Counted {
  static inline std::atomic<int64_t> live{0};
  static inline std::atomic<int64_t> destroyed{0};
  tricolor::Member<Counted> next;
  int64_t id;
  explicit Counted(int64_t i = 0) : id(i) { live.fetch_add(1); }
  ~Counted() {
    live.fetch_sub(1);
    destroyed.fetch_add(1);
  }
  void trace(tricolor::Visitor& v) const { v.visit(next); }
  static void reset() {
    live = 0;
    destroyed = 0;
  }
};

// A leaf: no managed pointers, never scanned.
struct Blob {
  static constexpr bool kHasNoPointers = true;
  uint64_t words[4] = {};
};

// Default options, except the collector mode, which the test registration
// chooses with TRICOLOR_MODE (each gc suite runs once per mode).
inline tricolor::Options quiet_options() {
  tricolor::Options o;
  if (const char* mode = std::getenv("TRICOLOR_MODE")) o.concurrent = std::string(mode) != "stw";
  return o;
}

}  // namespace test
