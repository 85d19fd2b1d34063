// hard_limit_test.cpp — out of memory at a hard limit: one emergency full
// collection and one retry; then a named HeapExhausted, with the heap intact
// and the program able to go on.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "../../gc/collector.h"
#include "test_types.h"

using namespace tricolor;
using test::Node;

namespace {

gc::GcConfig limited_config(size_t hard_limit_bytes) {
  gc::GcConfig config;
  config.mode = test::quiet_options().concurrent ? gc::CollectorMode::kConcurrent : gc::CollectorMode::kStw;
  config.gc_percent = kGcPercentOff;  // only the hard limit makes collections happen
  config.hard_limit_bytes = hard_limit_bytes;
  return config;
}

struct Blob {
  static constexpr bool kHasNoPointers = true;
  char bytes[1000];
};

}  // namespace

TEST_CASE("garbage beyond the hard limit is collected in an emergency, and allocation goes on") {
  gc::Collector collector(limited_config(size_t{8} << 20));
  Mutator m(collector);
  Persistent<Node> kept{make<Node>(m, 42)};
  for (int i = 0; i < 100'000; ++i) make<Blob>(m);  // ~100 MB of garbage through an 8 MB limit
  const gc::GcStats s = collector.stats();
  CHECK(s.collections >= 10);       // every one of them an emergency: GOGC is off
  CHECK(s.heap_live_bytes <= size_t{8} << 20);
  CHECK(kept->payload == 42);
}

TEST_CASE("live data beyond the hard limit: a named error, the heap intact, and the program continues") {
  gc::Collector collector(limited_config(size_t{8} << 20));
  Mutator m(collector);
  std::vector<void*> live;
  m.set_root_scanner([&](Visitor& v) { v.visit_range(const_cast<const void* const*>(live.data()), live.size()); });
  std::string message;
  try {
    for (int i = 0; i < 1'000'000; ++i) {  // 24 MB of 24-byte nodes, all kept
      Node* n = make<Node>(m, i);
      live.push_back(n);
    }
  } catch (const HeapExhausted& e) {
    message = e.what();
  }
  REQUIRE_FALSE(message.empty());
  CHECK(message.find("TRICOLOR_HARD_LIMIT") != std::string::npos);
  CHECK(message.find("refused") != std::string::npos);
  CHECK(live.size() > 250'000);  // nearly 8 MB of them fitted first
  for (size_t i = 0; i < live.size(); ++i) REQUIRE(static_cast<Node*>(live[i])->payload == static_cast<int64_t>(i));
  live.resize(live.size() / 2);  // free half: allocation works again
  collector.collect(&m, gc::CycleReason::kExplicit);
  CHECK_NOTHROW(make<Node>(m, -1));
  for (size_t i = 0; i < live.size(); ++i) REQUIRE(static_cast<Node*>(live[i])->payload == static_cast<int64_t>(i));
}
