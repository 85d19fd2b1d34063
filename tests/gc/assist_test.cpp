// assist_test.cpp — mark assists: an allocating mutator pays its mark debt
// in slices, and one payment (one allocation slow path) stops at its time
// budget and carries the rest of the debt to the next, so that no single
// allocation stalls for a whole mark's worth of work — unless a memory limit
// is set, when the heap must hold to it and a payment pays it all. Steps a
// concurrent cycle by hand (tests/gc/cycle_stepper.h).
#include <doctest/doctest.h>

#include "cycle_stepper.h"
#include "test_types.h"

using namespace tricolor;

namespace {

// A list of `length` nodes under `head`: marking it takes `length` steps,
// one after another, far more than one payment's budget allows.
test::Node* build_list(Mutator& m, Persistent<test::Node>& head, int length) {
  head = make<test::Node>(m);
  test::Node* tail = head.get();
  for (int i = 0; i < length; ++i) {
    test::Node* next = make<test::Node>(m, i);
    tail->left = next;
    tail = next;
  }
  return tail;
}

}  // namespace

TEST_CASE("one payment of assist debt stops at its budget and carries the rest to the next") {
  gc::Collector collector(test::stepped_config());  // the heap stays far below the hard goal
  Mutator m(collector);
  Persistent<test::Node> head;
  constexpr int kLength = 400'000;
  test::Node* tail = build_list(m, head, kLength);
  collector.begin_mark(&m, gc::CycleReason::kExplicit);
  collector.mark_global_roots();
  collector.scan_mutator_roots(&m);

  m.assist_debt_objects() = kLength;  // owes the whole list
  collector.pay_assist_debt(m);
  const size_t after_first = m.assist_debt_objects();
  CHECK(after_first > 0);                        // stopped by the budget, not by running out of work
  CHECK(after_first < size_t{kLength});          // but it did pay something
  CHECK_FALSE(collector.is_marked(tail));        // the list is not all marked
  collector.pay_assist_debt(m);                  // the next slow path goes on with the carried debt
  CHECK(m.assist_debt_objects() < after_first);

  do {
    collector.drain_background(SIZE_MAX);
    collector.flush_barrier_buffers(&m);
  } while (!collector.mark_looks_complete() || !collector.try_end_mark(&m));
  CHECK(collector.is_marked(tail));
  collector.sweep_and_finish();
  collector.pay_assist_debt(m);
  CHECK(m.assist_debt_objects() == 0);  // what is left when the mark ends is forgiven
}

TEST_CASE("with a memory limit, one payment pays the whole debt") {
  gc::GcConfig config = test::stepped_config();
  config.memory_limit_bytes = int64_t{4} << 30;  // far above this heap: only its presence matters
  gc::Collector collector(config);
  Mutator m(collector);
  Persistent<test::Node> head;
  constexpr int kLength = 400'000;
  build_list(m, head, kLength);
  collector.begin_mark(&m, gc::CycleReason::kExplicit);
  collector.mark_global_roots();
  collector.scan_mutator_roots(&m);
  m.assist_debt_objects() = kLength;
  collector.pay_assist_debt(m);
  CHECK(m.assist_debt_objects() < gc::Collector::kMinAssistObjects);  // paid, none carried
  do {
    collector.drain_background(SIZE_MAX);
    collector.flush_barrier_buffers(&m);
  } while (!collector.mark_looks_complete() || !collector.try_end_mark(&m));
  collector.sweep_and_finish();
}
