// pacer_test.cpp — the heap goal as a deterministic function, in the style of
// Go's pacer tests: named scenarios, asserted ratios, no clocks.
#include <doctest/doctest.h>

#include "../../gc/pacer.h"
#include "../../gc/size_classes.h"

using namespace tricolor::gc;

namespace {
constexpr size_t MiB = size_t{1} << 20;
constexpr int64_t kOff = INT64_MAX;

PacerInputs inputs(size_t live, int gogc, int64_t limit = kOff, size_t min_heap = 4 * MiB, size_t overhead = 0) {
  return PacerInputs{live, gogc, limit, min_heap, overhead};
}
}  // namespace

TEST_CASE("GOGC scales the goal with the live heap") {
  CHECK(heap_goal(inputs(100 * MiB, 100)) == 200 * MiB);
  CHECK(heap_goal(inputs(100 * MiB, 50)) == 150 * MiB);
  CHECK(heap_goal(inputs(100 * MiB, 200)) == 300 * MiB);
  CHECK(heap_goal(inputs(100 * MiB, 0)) == 100 * MiB);  // collect continuously
}

TEST_CASE("the minimum heap is a floor") {
  CHECK(heap_goal(inputs(0, 100)) == 4 * MiB);
  CHECK(heap_goal(inputs(1 * MiB, 100)) == 4 * MiB);
  CHECK(heap_goal(inputs(1 * MiB, 100, kOff, 64 * MiB)) == 64 * MiB);
}

TEST_CASE("GOGC=off: no goal without a limit, the limit with one") {
  CHECK(heap_goal(inputs(100 * MiB, -1)) == kNoHeapGoal);
  CHECK(heap_goal(inputs(100 * MiB, -1, 512 * MiB)) == 512 * MiB);
  CHECK(heap_goal(inputs(100 * MiB, -1, 512 * MiB, 4 * MiB, 12 * MiB)) == 500 * MiB);
}

TEST_CASE("GOMEMLIMIT caps the GOGC goal, minus non-heap overhead") {
  CHECK(heap_goal(inputs(100 * MiB, 100, 150 * MiB)) == 150 * MiB);
  CHECK(heap_goal(inputs(100 * MiB, 100, 150 * MiB, 4 * MiB, 10 * MiB)) == 140 * MiB);
  CHECK(heap_goal(inputs(100 * MiB, 100, 1024 * MiB)) == 200 * MiB);  // limit far: GOGC rules
}

TEST_CASE("a limit below the live heap keeps a headroom of live/16 instead of collecting continuously") {
  CHECK(heap_goal(inputs(160 * MiB, 100, 100 * MiB)) == 170 * MiB);
  CHECK(heap_goal(inputs(0, 100, 0)) == kSpanBytes);
  CHECK(heap_goal(inputs(16 * MiB, -1, 1 * MiB)) == 17 * MiB);
}

TEST_CASE("scenario: steady allocation with a stable live heap converges to a fixed goal") {
  size_t live = 50 * MiB;
  size_t goal = heap_goal(inputs(live, 100));
  for (int cycle = 0; cycle < 10; ++cycle) {
    live = 50 * MiB;  // each cycle frees what the last one allocated
    const size_t next = heap_goal(inputs(live, 100));
    CHECK(next == goal);
    goal = next;
  }
}

TEST_CASE("scenario: a step in live heap moves the goal in one cycle, a limit holds it") {
  const size_t before = heap_goal(inputs(50 * MiB, 100, 300 * MiB));
  const size_t after = heap_goal(inputs(200 * MiB, 100, 300 * MiB));
  CHECK(before == 100 * MiB);
  CHECK(after == 300 * MiB);  // capped, not 400
}

TEST_CASE("no overflow for huge live heaps and GOGC values") {
  CHECK(heap_goal(inputs(SIZE_MAX / 2, 2147483647)) == kNoHeapGoal);
  CHECK(heap_goal(inputs(SIZE_MAX / 4, 100)) == SIZE_MAX / 4 * 2);
}

TEST_CASE("empty memory retained after a cycle: up to 110 % of the goal, nothing beyond") {
  CHECK(retained_free_bytes(100 * MiB, 40 * MiB) == 70 * MiB);
  CHECK(retained_free_bytes(100 * MiB, 110 * MiB) == 0);
  CHECK(retained_free_bytes(100 * MiB, 200 * MiB) == 0);
  CHECK(retained_free_bytes(kNoHeapGoal, 1 * MiB) == SIZE_MAX);
}
