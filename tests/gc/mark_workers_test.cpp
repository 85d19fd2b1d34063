// mark_workers_test.cpp — the background markers' plan (Go's sizing rule),
// the fractional marker's share, the idle markers' spare cores, and the
// pool's three kinds of marker at work: each drains a mark on its own, and
// idle markers mark only while a core is spare.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "../../gc/collector.h"
#include "../../gc/mark_worker_plan.h"
#include "../../gc/mark_workers.h"
#include "../../gc/marker.h"
#include "cycle_stepper.h"
#include "test_types.h"

using namespace tricolor;
using gc::MarkWorkerPlan;
using gc::MarkWorkers;
using test::Node;

namespace {

void check_plan(unsigned cores, unsigned dedicated, double fractional, unsigned idle) {
  CAPTURE(cores);
  const MarkWorkerPlan plan = gc::plan_mark_workers(cores, 0, -1);
  CHECK(plan.dedicated == dedicated);
  CHECK(plan.fractional == doctest::Approx(fractional));
  CHECK(plan.idle == idle);
  // Whatever the rounding, background marking is a quarter of the cores
  // within Go's 30 %, and exactly a quarter when a fractional marker exists.
  const double planned = plan.dedicated + plan.fractional;
  CHECK(planned == doctest::Approx(cores * 0.25).epsilon(0.3));
  if (plan.fractional > 0) CHECK(planned == doctest::Approx(cores * 0.25));
}

// Waits for a condition that holds unless the code under test is broken;
// the bound only turns a hang into a failure.
template <class Condition>
bool eventually(Condition condition) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// A list of `count` white nodes, rooted by `head`.
void build_list(Mutator& m, Persistent<Node>& head, int count) {
  for (int i = 0; i < count; ++i) {
    Node* n = make<Node>(m, i);
    n->left = head.get();
    head = n;
  }
}

// Runs one mark of `head`'s list on `workers` alone (no driver, no assist):
// seeds the queue with the head and waits until every node is marked.
bool workers_mark_list(gc::Collector& collector, MarkWorkers& workers, Node* head, size_t count) {
  gc::MarkShared shared;
  {
    gc::Marker seed(collector.heap(), shared, /*exclusive=*/false);
    seed.visit_object(head);
    seed.publish();
  }
  workers.start_mark(shared);
  const bool all = eventually([&] { return shared.marked_objects.load() == count && shared.busy_markers.load() == 0; });
  workers.end_mark();
  return all;
}

}  // namespace

TEST_CASE("Go's plan: a quarter of the cores, a fractional marker when rounding is off, idle on the rest") {
  check_plan(1, 0, 0.25, 0);
  check_plan(2, 0, 0.50, 1);
  check_plan(3, 0, 0.75, 2);  // 1 would be 33 % over 0.75
  check_plan(4, 1, 0.00, 3);
  check_plan(6, 1, 0.50, 4);
  check_plan(8, 2, 0.00, 6);
  check_plan(10, 3, 0.00, 7);  // 3 is 20 % over 2.5: close enough
  check_plan(64, 16, 0.00, 48);
}

TEST_CASE("overrides: a dedicated count means no fractional marker; idle markers are capped by spare cores") {
  MarkWorkerPlan plan = gc::plan_mark_workers(2, 3, -1);
  CHECK(plan.dedicated == 3);
  CHECK(plan.fractional == 0.0);
  CHECK(plan.idle == 0);  // no core left over
  plan = gc::plan_mark_workers(8, 1, 2);
  CHECK(plan.dedicated == 1);
  CHECK(plan.idle == 2);
  plan = gc::plan_mark_workers(8, 0, 0);
  CHECK(plan.dedicated == 2);
  CHECK(plan.idle == 0);
  plan = gc::plan_mark_workers(0, 0, -1);  // an unknown core count counts as one
  CHECK(plan.dedicated + plan.fractional == doctest::Approx(0.25));
}

TEST_CASE("idle markers get the cores that mutators and the other markers leave") {
  const MarkWorkerPlan two_cores = gc::plan_mark_workers(2, 0, -1);  // 0 + 0.5 + 1
  // The fractional marker resting: its core is spare.
  CHECK(gc::spare_cores_for_idle(2, 0, two_cores, false) == 1);
  CHECK(gc::spare_cores_for_idle(2, 1, two_cores, false) == 1);
  CHECK(gc::spare_cores_for_idle(2, 2, two_cores, false) == 0);
  CHECK(gc::spare_cores_for_idle(2, 5, two_cores, false) == 0);
  // In a slice it takes a whole core: one mutator + the fractional marker
  // fill two cores, and an idle marker would preempt the mutator.
  CHECK(gc::spare_cores_for_idle(2, 0, two_cores, true) == 1);
  CHECK(gc::spare_cores_for_idle(2, 1, two_cores, true) == 0);
  const MarkWorkerPlan eight_cores = gc::plan_mark_workers(8, 0, -1);  // 2 + 0 + 6
  CHECK(gc::spare_cores_for_idle(8, 0, eight_cores, false) == 6);       // never more than planned
  CHECK(gc::spare_cores_for_idle(8, 3, eight_cores, false) == 3);
  CHECK(gc::spare_cores_for_idle(8, 3, eight_cores, true) == 3);  // no fractional marker in this plan
  CHECK(gc::spare_cores_for_idle(8, 6, eight_cores, false) == 0);
  CHECK(gc::spare_cores_for_idle(8, 0, gc::plan_mark_workers(8, 0, 0), false) == 0);  // idle markers off
  const MarkWorkerPlan six_cores = gc::plan_mark_workers(6, 0, -1);  // 1 + 0.5 + 4
  CHECK(gc::spare_cores_for_idle(6, 2, six_cores, false) == 3);
  CHECK(gc::spare_cores_for_idle(6, 2, six_cores, true) == 2);
}

TEST_CASE("the fractional share: rest until mark CPU is back to its share of the wall time") {
  gc::FractionalShare share(0.5);
  share.start(1'000);
  CHECK(share.rest_ns(1'000) == 0);
  share.add_cpu(400);
  CHECK(share.rest_ns(2'000) == 0);    // 400 of an allowed 500
  share.add_cpu(300);                  // 700 of an allowed 500: 200 over
  CHECK(share.rest_ns(2'000) == 400);  // at 0.5, resting 400 ns earns 200 ns
  CHECK(share.rest_ns(2'400) == 0);
}

TEST_CASE("a marker that finds nothing looks again later and later, and soon again once it marks") {
  gc::RecheckBackoff backoff(50, 5'000);
  std::vector<uint64_t> waits;
  for (int i = 0; i < 10; ++i) waits.push_back(backoff.next_wait_us());
  CHECK(waits == std::vector<uint64_t>{50, 100, 200, 400, 800, 1'600, 3'200, 5'000, 5'000, 5'000});
  backoff.reset();
  CHECK(backoff.next_wait_us() == 50);
  CHECK(backoff.next_wait_us() == 100);
  gc::RecheckBackoff flat(20, 20);  // first == max: a fixed period
  CHECK(flat.next_wait_us() == 20);
  CHECK(flat.next_wait_us() == 20);
}

TEST_CASE("each kind of pool marker marks a whole list on its own") {
  gc::Collector collector(test::stepped_config());
  Mutator m(collector);
  Persistent<Node> head;
  constexpr int kNodes = 50'000;
  build_list(m, head, kNodes);
  m.enter_blocking();  // no handshake will wait on this thread
  const MarkWorkerPlan pools[] = {{1, 0.0, 0}, {0, 0.5, 0}, {0, 0.0, 1}};
  for (const MarkWorkerPlan& pool : pools) {
    CAPTURE(pool.dedicated);
    CAPTURE(pool.fractional);
    MarkWorkers workers(collector.heap(), pool, nullptr, [] { return 1u; });
    REQUIRE(workers.count() == 1);
    // Fresh mark bits: a stepped cycle clears the last mark's.
    m.leave_blocking();
    test::run_stepped_cycle(collector, m);
    m.enter_blocking();
    CHECK(workers_mark_list(collector, workers, head.get(), kNodes));
    for (Node* n = head.get(); n != nullptr; n = n->left.get()) REQUIRE(collector.is_marked(n));
  }
  m.leave_blocking();
}

TEST_CASE("an idle marker marks only while a core is spare") {
  gc::Collector collector(test::stepped_config());
  Mutator m(collector);
  Persistent<Node> head;
  constexpr int kNodes = 20'000;
  build_list(m, head, kNodes);
  test::run_stepped_cycle(collector, m);  // fresh mark bits
  m.enter_blocking();
  std::atomic<unsigned> spare{0};
  MarkWorkers workers(collector.heap(), MarkWorkerPlan{0, 0.0, 1}, nullptr, [&] { return spare.load(); });
  gc::MarkShared shared;
  {
    gc::Marker seed(collector.heap(), shared, /*exclusive=*/false);
    seed.visit_object(head.get());
    seed.publish();
  }
  workers.start_mark(shared);
  REQUIRE(eventually([&] { return workers.idle_slices_declined() >= 3; }));
  CHECK(shared.marked_objects.load() == 1);  // the seed only: no core was spare
  spare = 1;
  CHECK(eventually([&] { return shared.marked_objects.load() == kNodes && shared.busy_markers.load() == 0; }));
  workers.end_mark();
  m.leave_blocking();
}

TEST_CASE("a collector runs the plan it reports, and gctrace's fields carry it") {
  gc::GcConfig config;
  config.mark_workers = 2;
  config.idle_mark_workers = 0;
  std::vector<gc::CycleReport> reports;
  std::mutex reports_mutex;
  config.on_cycle = [&](const gc::CycleReport& r) {
    std::lock_guard lock(reports_mutex);
    reports.push_back(r);
  };
  gc::Collector collector(config);
  CHECK(collector.mark_worker_plan().dedicated == 2);
  CHECK(collector.mark_worker_plan().fractional == 0.0);
  CHECK(collector.mark_worker_plan().idle == 0);
  {
    Mutator m(collector);
    Persistent<Node> head;
    build_list(m, head, 10'000);
    collector.collect(&m, gc::CycleReason::kExplicit);
  }
  std::lock_guard lock(reports_mutex);
  REQUIRE(!reports.empty());
  CHECK(reports.back().dedicated_markers == 2);
  CHECK(reports.back().idle_markers == 0);
  CHECK(reports.back().idle_cpu_ns == 0);
  CHECK(reports.back().background_cpu_ns > 0);
}
