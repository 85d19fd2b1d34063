// ephemeron_test.cpp — Ephemeron<K, V>: a value lives only as long as its
// key does; cycles through the value do not keep a pair alive; chains of
// pairs resolve over as many rounds as they need before the mark ends; stores
// while marking are barriered; misuse is refused. Runs in both modes, with
// the verifier on (it walks ephemerons with the same semantics).
#include <doctest/doctest.h>

#include "cycle_stepper.h"
#include "test_types.h"

using namespace tricolor;
using test::Counted;

namespace {

// A weak-keyed table: slot i holds key → value.
struct WeakTable {
  static constexpr int kSize = 64;
  Ephemeron<Counted, Counted> pairs[kSize];
  void trace(Visitor& v) const {
    for (const auto& pair : pairs) v.visit(pair);
  }
};

Options verified_options() {
  Options options = test::quiet_options();
  options.verify = true;
  return options;
}

}  // namespace

TEST_CASE("a value that refers back to its key does not keep the pair alive") {
  Counted::reset();
  Runtime rt{verified_options()};
  MutatorScope m(rt);
  Persistent<WeakTable> table{make<WeakTable>(m)};
  Persistent<Counted> kept_key{make<Counted>(m, 1)};
  {
    Local<Counted> dying_key(m, make<Counted>(m, 2));
    Counted* dying_value = make<Counted>(m, 20);
    dying_value->next = dying_key.get();  // value → key: a plain Member pair would leak
    table->pairs[0].set(dying_key.get(), dying_value);
    Counted* kept_value = make<Counted>(m, 10);
    kept_value->next = make<Counted>(m, 11);  // what the value holds lives too
    table->pairs[1].set(kept_key.get(), kept_value);
  }
  CHECK(Counted::live == 5);
  rt.collect();
  CHECK(Counted::live == 3);
  CHECK(Counted::destroyed == 2);
  CHECK(table->pairs[0].key() == nullptr);
  CHECK(table->pairs[0].value() == nullptr);
  REQUIRE(table->pairs[1].key() == kept_key.get());
  REQUIRE(table->pairs[1].value() != nullptr);
  CHECK(table->pairs[1].value()->id == 10);
  CHECK(table->pairs[1].value()->next->id == 11);

  kept_key.reset();
  rt.collect();
  CHECK(Counted::live == 0);
  CHECK(table->pairs[1].key() == nullptr);
  CHECK(table->pairs[1].value() == nullptr);
}

TEST_CASE("a chain of pairs resolves over as many rounds as it needs") {
  // Key i's value is key i + 1, stored in the table in reverse order, so one
  // pass over the table resolves one link only: the mark must loop until no
  // pending pair has a marked key.
  Counted::reset();
  Runtime rt{verified_options()};
  MutatorScope m(rt);
  Persistent<WeakTable> table{make<WeakTable>(m)};
  Persistent<Counted> first{make<Counted>(m, 0)};
  constexpr int kLinks = WeakTable::kSize;
  {
    Counted* key = first.get();
    for (int i = 0; i < kLinks; ++i) {
      Counted* next = make<Counted>(m, i + 1);
      table->pairs[kLinks - 1 - i].set(key, next);
      key = next;
    }
  }
  for (int cycle = 0; cycle < 3; ++cycle) {
    rt.collect();
    CHECK(Counted::live == kLinks + 1);
  }
  const Counted* key = first.get();
  for (int i = 0; i < kLinks; ++i) {
    const auto& pair = table->pairs[kLinks - 1 - i];
    REQUIRE(pair.key() == key);
    REQUIRE(pair.value() != nullptr);
    CHECK(pair.value()->id == i + 1);
    key = pair.value();
  }
  first.reset();  // the head dies: the whole chain with it
  rt.collect();
  CHECK(Counted::live == 0);
  for (const auto& pair : table->pairs) CHECK(pair.key() == nullptr);
}

TEST_CASE("a value without a key is refused, and the pair stays as it was") {
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  Persistent<WeakTable> table{make<WeakTable>(m)};
  Persistent<Counted> key{make<Counted>(m, 1)};
  Persistent<Counted> value{make<Counted>(m, 2)};
  table->pairs[0].set(key.get(), value.get());
  CHECK_THROWS_AS(table->pairs[0].set(nullptr, value.get()), UsageError);
  CHECK(table->pairs[0].key() == key.get());
  CHECK(table->pairs[0].value() == value.get());
  table->pairs[0].clear();
  CHECK(table->pairs[0].key() == nullptr);
  CHECK(table->pairs[0].value() == nullptr);
}

TEST_CASE("stepped: a pair stored while marking is barriered, and its key's mark resolves it") {
  if (!test::quiet_options().concurrent) return;  // a concurrent-mode scenario
  Counted::reset();
  gc::Collector collector(test::stepped_config());  // verifier on at the end of the mark
  Mutator m(collector);
  Persistent<WeakTable> table(make<WeakTable>(m));
  Persistent<Counted> holder(make<Counted>(m, 5));  // holder → key → value, all white
  holder->next = make<Counted>(m, 6);
  holder->next->next = make<Counted>(m, 7);
  Counted* pending_key = make<Counted>(m, 3);  // only the table knows it, weakly
  Counted* pending_value = make<Counted>(m, 4);
  table->pairs[0].set(pending_key, pending_value);
  Persistent<Counted> late_key;

  collector.begin_mark(&m, gc::CycleReason::kExplicit);
  collector.mark_global_roots();  // table and holder grey, nothing traced yet
  Counted* key = holder->next;
  Counted* value = key->next;
  REQUIRE_FALSE(collector.is_marked(key));
  REQUIRE_FALSE(collector.is_marked(value));
  table->pairs[1].set(key, value);  // shades both at once
  CHECK(collector.is_marked(key));
  CHECK(collector.is_marked(value));
  holder->next->next = nullptr;
  holder->next = nullptr;  // now the pair alone holds key and value

  collector.scan_mutator_roots(&m);
  collector.drain_background(SIZE_MAX);
  CHECK(collector.is_marked(table.get()));
  CHECK_FALSE(collector.is_marked(pending_key));
  CHECK(collector.pending_ephemerons() == 1);  // pair 0 waits on its white key
  late_key = pending_key;  // a root store after the table was traced
  do {
    collector.drain_background(SIZE_MAX);
    collector.flush_barrier_buffers(&m);
  } while (!collector.mark_looks_complete() || !collector.try_end_mark(&m));
  CHECK(collector.is_marked(pending_value));  // resolved before the mark ended
  CHECK(collector.pending_ephemerons() == 0);
  collector.sweep_and_finish();
  CHECK(Counted::live == 5);
  CHECK(table->pairs[0].value() == pending_value);
  CHECK(table->pairs[1].value() == value);

  // Next cycle: pair 0's key is dropped, pair 1's key was only ever in the
  // table (it survived the last cycle because it was stored while marking).
  late_key.reset();
  holder.reset();
  test::run_stepped_cycle(collector, m);
  CHECK(Counted::live == 0);
  CHECK(table->pairs[0].key() == nullptr);
  CHECK(table->pairs[1].key() == nullptr);
  CHECK(table->pairs[1].value() == nullptr);
}

TEST_CASE("stepped: a pair whose key dies loses its value too, so a later store shades nothing freed") {
  // The collector once nulled only the key of a dead pair. The value slot
  // kept pointing at the value the sweep then freed, and the next store into
  // the pair during a mark shaded that freed memory as its old target.
  if (!test::quiet_options().concurrent) return;  // a concurrent-mode scenario
  Counted::reset();
  gc::Collector collector(test::stepped_config());
  Mutator m(collector);
  Persistent<WeakTable> table(make<WeakTable>(m));
  Persistent<Counted> dying_key(make<Counted>(m, 1));
  table->pairs[0].set(dying_key.get(), make<Counted>(m, 2));
  dying_key.reset();  // now only the pair knows key and value

  test::run_stepped_cycle(collector, m);
  CHECK(Counted::live == 0);
  CHECK(table->pairs[0].key_slot()->load() == nullptr);
  CHECK(table->pairs[0].value_slot()->load() == nullptr);

  // The next mark: a new pair goes into the emptied one while marking.
  Persistent<Counted> key(make<Counted>(m, 3));
  test::run_stepped_cycle(collector, m, [&] { table->pairs[0].set(key.get(), make<Counted>(m, 4)); });
  CHECK(Counted::live == 2);
  REQUIRE(table->pairs[0].value() != nullptr);
  CHECK(table->pairs[0].value()->id == 4);
}
