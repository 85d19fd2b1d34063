// deferred_work_test.cpp — the deferred-work queue: items run in slices on
// the collector's thread until done, an item is a root while queued, and an
// item queued during a mark has its objects shaded.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "cycle_stepper.h"
#include "test_types.h"

using namespace tricolor;

namespace {

// Needs `slices` calls to run() to finish; holds one object alive meanwhile.
class CountingItem : public gc::DeferredWork {
 public:
  CountingItem(int slices, const void* held) : remaining_(slices), held_(held) {}
  bool run(uint64_t budget_ns) override {
    budgets_seen_ += budget_ns > 0 ? 1 : 0;
    return --remaining_ == 0;
  }
  void trace(Visitor& v) const override { v.visit_object(held_); }
  int remaining() const { return remaining_.load(); }
  int budgets_seen() const { return budgets_seen_.load(); }

 private:
  std::atomic<int> remaining_;
  std::atomic<int> budgets_seen_{0};
  const void* held_;
};

}  // namespace

TEST_CASE("deferred work runs in slices on the collector's thread until done, and is then dropped") {
  test::Counted::reset();
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  auto item = std::make_shared<CountingItem>(5, make<test::Counted>(m, 1));
  std::weak_ptr<CountingItem> watch = item;
  rt.collector().defer(item);
  item.reset();
  while (!watch.expired()) std::this_thread::yield();  // dropped once done
  CHECK(rt.collector().deferred_work().size() == 0);
  CHECK(rt.collector().deferred_work().slices_run() == 5);
}

TEST_CASE("a queued item keeps what it traces alive; a finished one does not") {
  test::Counted::reset();
  gc::Collector collector(test::stepped_config());  // no background thread: items wait
  Mutator m(collector);
  auto item = std::make_shared<CountingItem>(2, make<test::Counted>(m, 7));
  collector.defer(item);
  auto cycle = [&] { test::run_stepped_cycle(collector, m); };
  cycle();
  CHECK(test::Counted::live == 1);  // held by the queued item only
  CHECK(collector.deferred_work().run_one(1000));
  CHECK(collector.deferred_work().run_one(1000));
  CHECK(collector.deferred_work().size() == 0);
  CHECK(item->budgets_seen() == 2);
  item.reset();
  cycle();
  CHECK(test::Counted::live == 0);
}

TEST_CASE("an item queued during a mark has its objects shaded at once") {
  gc::Collector collector(test::stepped_config());
  Mutator m(collector);
  Local<test::Node> object(m, make<test::Node>(m, 1));
  collector.begin_mark(&m, gc::CycleReason::kExplicit);
  CHECK_FALSE(collector.is_marked(object.get()));
  collector.defer(std::make_shared<CountingItem>(1, object.get()));
  CHECK(collector.is_marked(object.get()));
  collector.mark_global_roots();
  collector.scan_mutator_roots(&m);
  while (!collector.mark_looks_complete() || !collector.try_end_mark(&m)) {
    collector.drain_background(SIZE_MAX);
    collector.flush_barrier_buffers(&m);
  }
  collector.sweep_and_finish();
}

TEST_CASE("a big allocation with deferred assist leaves its debt to be paid in bounded batches, one per period of calls") {
  gc::Collector collector(test::stepped_config());
  Mutator m(collector);
  // A long list to mark: tracing it takes many slices.
  Persistent<test::Node> head(make<test::Node>(m));
  test::Node* tail = head.get();
  for (int i = 0; i < 50000; ++i) {
    test::Node* next = make<test::Node>(m, i);
    tail->left = next;
    tail = next;
  }
  collector.begin_mark(&m, gc::CycleReason::kExplicit);
  collector.mark_global_roots();
  collector.scan_mutator_roots(&m);
  const size_t assist_before = m.assist_debt_objects();
  make_with_deferred_assist<test::Blob>(m, AdditionalBytes{size_t{256} << 20});  // never touched: no RSS
  const size_t debt = m.deferred_debt_objects();
  CHECK(debt > 4 * gc::Collector::kAssistSliceObjects);  // nothing paid up front
  CHECK(m.assist_debt_objects() == assist_before);       // not the ordinary debt
  // Between two payments a call pays nothing; the period's call pays at most
  // kDeferredDebtPeriod slices.
  for (size_t call = 1; call < gc::Collector::kDeferredDebtPeriod; ++call) {
    collector.pay_deferred_debt(m);
    REQUIRE(m.deferred_debt_objects() == debt);
  }
  const size_t credit = collector.background_credit();
  collector.pay_deferred_debt(m);
  CHECK(m.deferred_debt_objects() < debt);
  CHECK(m.deferred_debt_objects() + gc::Collector::kDeferredDebtPeriod * gc::Collector::kAssistSliceObjects +
            credit >= debt);
  const size_t after_first = m.deferred_debt_objects();
  collector.pay_deferred_debt(m);
  CHECK(m.deferred_debt_objects() == after_first);  // the next period has begun
  do {
    collector.drain_background(SIZE_MAX);
    collector.flush_barrier_buffers(&m);
  } while (!collector.mark_looks_complete() || !collector.try_end_mark(&m));
  collector.sweep_and_finish();
  collector.pay_deferred_debt(m);
  CHECK(m.deferred_debt_objects() == 0);  // forgiven once the mark is over, at any call
}
