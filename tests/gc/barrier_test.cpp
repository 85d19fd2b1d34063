// barrier_test.cpp — a concurrent cycle stepped by hand (no background
// thread), checking after each kind of store what the barrier shaded:
// Member field stores, the raw barrier entry point, stores into objects born
// during the mark, Persistent (root) stores, weak reads and weak stores; and
// what the cycle then keeps and frees. The colour invariant is checked
// between steps (verify_colours) and the verifier runs when the mark ends.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "../../gc/verifier.h"
#include "cycle_stepper.h"
#include "test_types.h"

using namespace tricolor;
using test::Node;

namespace {

// A collector with one mutator (this thread), stepped by the test.
struct Stepped {
  Stepped() : Stepped(test::stepped_config()) {}
  explicit Stepped(const gc::GcConfig& config) : collector(config) {}
  gc::Collector collector;
  Mutator m{collector};

  void begin() {
    collector.begin_mark(&m, gc::CycleReason::kExplicit);
    check();
  }
  // The colour invariant, between any two steps (gc/verifier.h).
  void check() { gc::verify_colours(collector); }
  // Hands buffered barrier entries over and marks from them.
  void flush_and_drain() {
    check();  // right after the test's store
    collector.flush_barrier_buffers(&m);
    check();
    collector.drain_background(SIZE_MAX);
    check();
  }
  void finish() {
    collector.mark_global_roots();
    check();
    collector.scan_mutator_roots(&m);
    check();
    for (int attempt = 0; attempt < 4; ++attempt) {
      flush_and_drain();
      if (collector.mark_looks_complete() && collector.try_end_mark(&m)) break;
    }
    REQUIRE(collector.phase() == gc::Phase::kSweep);
    collector.sweep_and_finish();
  }
  bool marked(const void* object) const { return collector.is_marked(object); }
};

}  // namespace

TEST_CASE("outside a mark the barrier records nothing") {
  Stepped s;
  Persistent<Node> a{make<Node>(s.m, 1)};
  a->left = make<Node>(s.m, 2);
  CHECK(s.m.barrier_buffer_entries() == 0);
  CHECK_FALSE(gc::g_barrier_enabled.load());
}

TEST_CASE("a Member store shades the old and the new target") {
  Stepped s;
  Persistent<Node> a{make<Node>(s.m, 1)};
  Node* old_target = make<Node>(s.m, 2);
  a->left = old_target;
  Local<Node> new_target(s.m, make<Node>(s.m, 3));
  s.begin();
  CHECK_FALSE(s.marked(old_target));
  CHECK_FALSE(s.marked(new_target.get()));
  a->left = new_target.get();
  CHECK(s.m.barrier_buffer_entries() == 2);
  s.flush_and_drain();
  CHECK(s.marked(old_target));         // deletion half
  CHECK(s.marked(new_target.get()));   // insertion half
  CHECK_FALSE(s.marked(a.get()));      // the holder itself is not shaded by a store
  s.finish();
}

TEST_CASE("the raw barrier entry point shades both targets") {
  Stepped s;
  Local<Node> x(s.m, make<Node>(s.m, 1));
  Local<Node> y(s.m, make<Node>(s.m, 2));
  s.begin();
  write_barrier(x.get(), y.get());
  write_barrier(nullptr, nullptr);  // nulls are ignored
  CHECK(s.m.barrier_buffer_entries() == 2);
  s.flush_and_drain();
  CHECK(s.marked(x.get()));
  CHECK(s.marked(y.get()));
  s.finish();
}

TEST_CASE("objects born during the mark are black, and stores into them still shade") {
  Stepped s;
  Local<Node> white(s.m, make<Node>(s.m, 1));
  s.begin();
  Local<Node> born(s.m, make<Node>(s.m, 2));
  CHECK(s.marked(born.get()));  // allocated black
  born->left = white.get();     // a store into a fresh object
  s.flush_and_drain();
  CHECK(s.marked(white.get()));
  s.finish();
  CHECK(born->left->payload == 1);
}

TEST_CASE("a Persistent store is a root store and goes through the barrier") {
  Stepped s;
  Persistent<Node> root{make<Node>(s.m, 1)};
  Node* before = root.get();
  Local<Node> after(s.m, make<Node>(s.m, 2));
  s.begin();
  root = after.get();
  s.flush_and_drain();
  CHECK(s.marked(before));
  CHECK(s.marked(after.get()));
  s.finish();
}

TEST_CASE("a weak read during the mark shades its target; unread weak targets die") {
  test::Counted::reset();
  Stepped s;
  WeakRef<test::Counted> read_weak{make<test::Counted>(s.m, 1)};
  WeakRef<test::Counted> unread_weak{make<test::Counted>(s.m, 2)};
  s.begin();
  test::Counted* got = read_weak.get();
  REQUIRE(got != nullptr);
  s.flush_and_drain();
  CHECK(s.marked(got));
  s.finish();
  CHECK(read_weak.get() == got);         // survived this cycle: it was read
  CHECK(unread_weak.get() == nullptr);   // cleared
  CHECK(test::Counted::destroyed == 1);
}

TEST_CASE("a weak store during the mark shades its target") {
  Stepped s;
  struct Holder {
    WeakMember<Node> weak;
    void trace(Visitor& v) const { v.visit(weak); }
  };
  Persistent<Holder> holder{make<Holder>(s.m)};
  Local<Node> target(s.m, make<Node>(s.m, 7));
  s.begin();
  holder->weak = target.get();
  s.flush_and_drain();
  CHECK(s.marked(target.get()));
  s.finish();
  CHECK(holder->weak.get() == target.get());
}

TEST_CASE("a whole stepped cycle keeps what is reachable and frees the rest") {
  test::Counted::reset();
  Stepped s;
  Persistent<test::Counted> kept{make<test::Counted>(s.m, 1)};
  kept->next = make<test::Counted>(s.m, 2);
  for (int i = 0; i < 100; ++i) make<test::Counted>(s.m, -1);
  s.begin();
  for (int i = 0; i < 100; ++i) make<test::Counted>(s.m, -2);  // black: survive this cycle
  s.finish();
  CHECK(test::Counted::destroyed == 100);
  CHECK(test::Counted::live == 102);
  CHECK(kept->next->id == 2);
}

namespace {
// A big array that lets markers trace it in chunks.
struct ChunkedArray {
  size_t length;
  explicit ChunkedArray(size_t n) : length(n) {}
  Member<Node>* slots() { return reinterpret_cast<Member<Node>*>(this + 1); }
  const Member<Node>* slots() const { return reinterpret_cast<const Member<Node>*>(this + 1); }
  size_t trace_slot_count() const { return length; }
  void trace_slots(Visitor& v, size_t first, size_t end) const { v.visit_range(slots() + first, end - first); }
  void trace(Visitor& v) const { trace_slots(v, 0, length); }
};
}  // namespace

TEST_CASE("a big array is marked in bounded chunks, every slot reached") {
  Stepped s;
  constexpr size_t kLength = 1 << 20;  // 8 MiB of slots: 512 chunks of 2048
  Persistent<ChunkedArray> array{make<ChunkedArray>(s.m, AdditionalBytes{kLength * sizeof(Member<Node>)}, kLength)};
  for (size_t i = 0; i < kLength; i += 1000) array->slots()[i] = make<Node>(s.m, static_cast<int64_t>(i));
  s.begin();
  s.collector.mark_global_roots();
  CHECK_FALSE(s.collector.drain_background(3));  // a budget of three entries: three chunks at most
  CHECK(s.collector.oblets_traced() <= 3);
  s.check();  // half-traced: the array is grey while chunks of it are queued
  s.collector.drain_background(SIZE_MAX);
  CHECK(s.collector.oblets_traced() == kLength / 2048);
  for (size_t i = 0; i < kLength; i += 1000) REQUIRE(s.marked(array->slots()[i].get()));
  s.finish();
  for (size_t i = 0; i < kLength; i += 1000) REQUIRE(array->slots()[i]->payload == static_cast<int64_t>(i));
}

TEST_CASE("assists pay their debt from the background markers' credit first") {
  gc::GcConfig config = test::stepped_config();
  config.min_heap_bytes = 1 << 20;  // a small goal: allocating past it incurs assist debt
  Stepped s{config};
  Persistent<ChunkedArray> array{make<ChunkedArray>(s.m, AdditionalBytes{4096 * sizeof(Member<Node>)}, 4096)};
  for (size_t i = 0; i < 4096; ++i) array->slots()[i] = make<Node>(s.m, static_cast<int64_t>(i));
  s.begin();
  s.collector.mark_global_roots();
  s.collector.drain_background(SIZE_MAX);  // ~4100 entries of credit, nothing left to mark
  const size_t credit = s.collector.background_credit();
  CHECK(credit >= 4096 / 2048 + 1);
  for (int i = 0; i < 200'000; ++i) make<Node>(s.m, -1);  // refills: assists that find no work
  CHECK(s.collector.background_credit() < credit);        // they drew on the credit
  s.finish();
}

TEST_CASE("a mutator that registers during the mark allocates black (its roots are never scanned)") {
  Stepped s;
  s.begin();
  s.collector.mark_global_roots();
  s.collector.scan_mutator_roots(&s.m);  // before the newcomer exists
  std::atomic<bool> allocated{false};
  std::atomic<bool> release{false};
  std::atomic<const void*> object{nullptr};
  std::atomic<int64_t> payload_seen{0};
  std::thread newcomer([&] {
    Mutator late(s.collector);
    Local<Node> held(late, make<Node>(late, 99));  // only this Local holds it
    object = held.get();
    {
      BlockingRegion blocked(late);  // the collector answers its handshakes
      allocated = true;
      while (!release) std::this_thread::yield();
    }
    payload_seen = held->payload;
  });
  while (!allocated) std::this_thread::yield();
  CHECK(s.marked(object.load()));  // born black
  s.finish();                      // the verifier walks the newcomer's roots too
  release = true;
  newcomer.join();
  CHECK(payload_seen == 99);
}
