// provisioner_test.cpp — the provisioning thread and its jobs: jobs run on
// their own thread in order, each until done, and are roots while queued; a
// PrefaultWork makes a large object resident without changing it; the heap
// commits a huge page of spans at a time, keeps one resident (zero,
// needs_zero false) ahead of allocation, and never gives back an arena a job
// holds.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "../../gc/collector.h"
#include "../../gc/heap.h"
#include "../../gc/prefault.h"
#include "../../gc/provisioner.h"
#include "../../gc/size_classes.h"
#include "cycle_stepper.h"
#include "test_types.h"

using namespace tricolor;
using namespace tricolor::gc;

namespace {

// Needs `slices` runs to finish; records the order jobs finished in.
class OrderedJob : public DeferredWork {
 public:
  OrderedJob(int id, int slices, std::vector<int>& finished, const void* held = nullptr)
      : id_(id), remaining_(slices), finished_(finished), held_(held) {}
  bool run(uint64_t) override {
    if (--remaining_ != 0) return false;
    finished_.push_back(id_);  // one job at a time: no lock needed
    return true;
  }
  void trace(Visitor& v) const override {
    if (held_ != nullptr) v.visit_object(held_);
  }

 private:
  int id_;
  int remaining_;
  std::vector<int>& finished_;
  const void* held_;
};

void wait_idle(const Provisioner& provisioner) {
  while (provisioner.pending() != 0) std::this_thread::yield();
}

// Pages of [address, address + bytes) the kernel has resident.
size_t resident_pages(const void* address, size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(address) & ~(page - 1);
  const size_t pages = (reinterpret_cast<uintptr_t>(address) + bytes - begin + page - 1) / page;
  std::vector<unsigned char> in_core(pages);
  REQUIRE(mincore(reinterpret_cast<void*>(begin), pages * page, in_core.data()) == 0);
  size_t resident = 0;
  for (unsigned char c : in_core) resident += c & 1;
  return resident;
}

// A bare heap with a provisioner, held: its jobs wait for the test.
struct ProvisionedHeap {
  Heap heap;
  Provisioner provisioner;  // after the heap: stops first
  ProvisionedHeap() {
    heap.set_provisioner(&provisioner);
    provisioner.hold_for_test(true);
  }
};

bool reconciles(const HeapCounters& c) {
  return c.arena_bytes == c.in_use_span_bytes + c.free_span_bytes + c.released_span_bytes;
}

}  // namespace

TEST_CASE("the provisioner runs jobs in submission order, each until it is done") {
  std::vector<int> finished;
  {
    Provisioner provisioner;
    provisioner.hold_for_test(true);  // queue all three before any runs
    provisioner.submit(std::make_shared<OrderedJob>(1, 3, finished));
    provisioner.submit(std::make_shared<OrderedJob>(2, 1, finished));
    provisioner.submit(std::make_shared<OrderedJob>(3, 2, finished));
    CHECK(provisioner.pending() == 3);
    CHECK(provisioner.slices_run() == 0);
    provisioner.hold_for_test(false);
    wait_idle(provisioner);
    CHECK(provisioner.slices_run() == 6);
  }
  // Slices take turns (an unfinished job goes to the back), so the one-slice
  // job finishes first; every job ran to its end.
  CHECK(finished == std::vector<int>{2, 3, 1});
}

TEST_CASE("the provisioner's destructor stops its thread and drops what is still queued") {
  std::vector<int> finished;
  auto job = std::make_shared<OrderedJob>(1, 1, finished);
  std::weak_ptr<OrderedJob> watch = job;
  {
    Provisioner provisioner;
    provisioner.hold_for_test(true);
    provisioner.submit(std::move(job));
  }
  CHECK(watch.expired());
  CHECK(finished.empty());
}

TEST_CASE("a job queued on the provisioner keeps what it traces alive") {
  test::Counted::reset();
  Collector collector(test::stepped_config());
  Mutator m(collector);
  std::vector<int> finished;
  collector.provisioner().hold_for_test(true);
  collector.prefault(std::make_shared<OrderedJob>(1, 1, finished, make<test::Counted>(m, 7)));
  test::run_stepped_cycle(collector, m);
  CHECK(test::Counted::live == 1);  // held by the queued job only
  collector.provisioner().hold_for_test(false);
  wait_idle(collector.provisioner());
  CHECK(finished == std::vector<int>{1});
  test::run_stepped_cycle(collector, m);
  CHECK(test::Counted::live == 0);
}

TEST_CASE("a job queued during a mark has its objects shaded at once") {
  Collector collector(test::stepped_config());
  Mutator m(collector);
  Local<test::Node> object(m, make<test::Node>(m, 1));
  std::vector<int> finished;
  collector.provisioner().hold_for_test(true);
  test::run_stepped_cycle(collector, m, [&] {  // the Local is not traced yet
    CHECK_FALSE(collector.is_marked(object.get()));
    collector.prefault(std::make_shared<OrderedJob>(1, 1, finished, object.get()));
    CHECK(collector.is_marked(object.get()));
  });
}

TEST_CASE("a PrefaultWork makes a large object resident, leaves its contents, and says so") {
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  constexpr size_t kBytes = size_t{6} << 20;
  auto* object = reinterpret_cast<unsigned char*>(make<test::Blob>(m, AdditionalBytes{kBytes}));
  const size_t pages = kBytes / static_cast<size_t>(sysconf(_SC_PAGESIZE));
  REQUIRE(resident_pages(object + (size_t{4} << 20), 4096) == 0);  // fresh: untouched so far
  object[kBytes / 2] = 42;  // a write made before the job: populating keeps it
  std::atomic<bool> ready{false};
  PrefaultWork job(object, kBytes, ready);
  while (!job.run(1'000'000)) CHECK_FALSE(ready.load());
  CHECK(ready.load());
  CHECK(resident_pages(object, kBytes) >= pages);
  CHECK(object[kBytes / 2] == 42);
  CHECK(object[kBytes - 1] == 0);
}

TEST_CASE("the heap commits a huge page at a time and keeps one resident ahead of allocation") {
  ProvisionedHeap provisioned;
  Heap& heap = provisioned.heap;
  Provisioner& provisioner = provisioned.provisioner;
  // A bare heap hands out an arena's spans from the top down: the first span
  // taken is the arena's last. Its whole huge page is committed at once, and
  // with fewer than a huge page of spans free the next one down is queued.
  Span* first = heap.acquire_span(size_class_index(64));
  Arena* arena = first->arena;
  CHECK(first->base % kHugePageBytes == kHugePageBytes - kSpanBytes);  // arenas are huge-page aligned
  const size_t top_page = kSpansPerArena - kSpansPerHugePage;
  const size_t next_page = top_page - kSpansPerHugePage;
  CHECK(first == &arena->spans[kSpansPerArena - 1]);
  for (size_t i = top_page; i < kSpansPerArena - 1; ++i) {
    CAPTURE(i);
    CHECK(arena->spans[i].state == SpanState::kFree);
    CHECK_FALSE(arena->spans[i].needs_zero);  // released memory reads as zero
  }
  CHECK(heap.counters().free_span_bytes == (kSpansPerHugePage - 1) * kSpanBytes);
  CHECK(arena->prefaulting == 1);
  CHECK(provisioner.pending() == 1);
  for (size_t i = next_page; i < top_page; ++i) CHECK(arena->spans[i].prefault_queued);
  provisioner.hold_for_test(false);
  wait_idle(provisioner);
  CHECK(arena->prefaulting == 0);
  const HeapCounters after = heap.counters();
  CHECK(after.free_span_bytes == (2 * kSpansPerHugePage - 1) * kSpanBytes);
  CHECK(after.released_span_bytes == kArenaBytes - 2 * kHugePageBytes);
  CHECK(reconciles(after));
  CHECK(resident_pages(reinterpret_cast<void*>(arena->spans[next_page].base), kHugePageBytes) ==
        kHugePageBytes / 4096);
  for (size_t i = next_page; i < top_page; ++i) {
    const Span& span = arena->spans[i];
    CAPTURE(i);
    CHECK(span.state == SpanState::kFree);
    CHECK_FALSE(span.needs_zero);  // populated memory is still zero
    CHECK_FALSE(span.prefault_queued);
  }
  CHECK(arena->spans[next_page - 1].state == SpanState::kReleased);
  // The next span is a committed one, zero; more than a huge page is free,
  // so nothing more is queued.
  Span* second = heap.acquire_span(size_class_index(64));
  CHECK(second->base >= arena->spans[next_page].base);
  const auto* bytes = reinterpret_cast<const unsigned char*>(second->base);
  bool zero = true;
  for (size_t i = 0; i < kSpanBytes; ++i) zero = zero && bytes[i] == 0;
  CHECK(zero);
  CHECK(provisioner.pending() == 0);
  CHECK(heap.counters().free_span_bytes == (2 * kSpansPerHugePage - 2) * kSpanBytes);
  heap.release_span(first);
  heap.release_span(second);
}

TEST_CASE("the provisioner builds the next arena before allocation needs it") {
  ProvisionedHeap provisioned;
  Heap& heap = provisioned.heap;
  Provisioner& provisioner = provisioned.provisioner;
  provisioner.hold_for_test(false);
  const uint8_t cls = size_class_index(64);
  std::vector<Span*> held{heap.acquire_span(cls)};  // the first arena, built by acquire_span
  CHECK(heap.counters().arenas == 1);
  // Take spans, one at a time, until a second arena appears.
  while (heap.counters().arenas == 1 && held.size() < kSpansPerArena) {
    held.push_back(heap.acquire_span(cls));
    wait_idle(provisioner);  // the jobs each refill queued
  }
  // Built by the provisioner once fewer than kGrowAheadSpans released spans
  // were left in the first: before acquire_span ran out and built it.
  CHECK(heap.counters().arenas == 2);
  CHECK(held.size() < kSpansPerArena - kSpansPerHugePage);
  for (const Span* span : held) CHECK(span->arena == held.front()->arena);
  for (Span* span : held) heap.release_span(span);
}

// Submitting a job wakes the provisioner, which may preempt the thread that
// woke it: never with the heap lock held, or every other refill waits.
TEST_CASE("provisioning jobs are submitted without the heap lock") {
  ProvisionedHeap provisioned;
  Heap& heap = provisioned.heap;
  int submissions = 0;
  bool lock_free = true;
  heap.set_submit_hook_for_test([&] {
    ++submissions;
    std::thread probe([&] { lock_free = lock_free && heap.lock_is_free_for_test(); });
    probe.join();
  });
  Span* span = heap.acquire_span(size_class_index(64));  // queues the next huge page's prefault
  heap.set_submit_hook_for_test(nullptr);
  CHECK(submissions == 1);
  CHECK(lock_free);
  CHECK(provisioned.provisioner.pending() == 1);
  heap.release_span(span);
}

TEST_CASE("an arena a provisioning job holds is not given back, however empty") {
  ProvisionedHeap provisioned;
  Heap& heap = provisioned.heap;
  Provisioner& provisioner = provisioned.provisioner;
  Span* span = heap.acquire_span(size_class_index(64));
  heap.release_span(span);
  heap.sweep_all(/*poison=*/false);  // the only span comes out empty: the arena is all empty
  heap.release_free_memory(/*retain_bytes=*/0);
  CHECK(heap.counters().arenas == 1);  // the job still holds it
  provisioner.hold_for_test(false);
  wait_idle(provisioner);
  heap.release_free_memory(/*retain_bytes=*/0);
  CHECK(heap.counters().arenas == 0);
}
