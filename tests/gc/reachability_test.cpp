// reachability_test.cpp — what survives a collection and what does not:
// Member edges, Persistent, root scanners (single and range), Local handles,
// unreachable objects and cycles, weak references, destructors, constructors
// that allocate or throw, variable-size objects.
#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "test_types.h"

using namespace tricolor;
using test::Counted;
using test::Node;

TEST_CASE("objects reachable through Persistent and Member survive; the rest is reclaimed") {
  Counted::reset();
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  Persistent<Counted> root{make<Counted>(m, 0)};
  {
    Counted* tail = root.get();
    for (int i = 1; i <= 1000; ++i) {
      tail->next = make<Counted>(m, i);
      tail = tail->next;
    }
  }
  for (int i = 0; i < 5000; ++i) make<Counted>(m, -1);  // garbage
  CHECK(Counted::live == 6001);
  rt.collect();
  CHECK(Counted::live == 1001);
  CHECK(Counted::destroyed == 5000);
  int64_t expected = 0;
  for (Counted* c = root.get(); c != nullptr; c = c->next) CHECK(c->id == expected++);
  CHECK(expected == 1001);

  root->next->next = nullptr;  // cut the chain after two objects
  rt.collect();
  CHECK(Counted::live == 2);
  root.reset();
  rt.collect();
  CHECK(Counted::live == 0);
  CHECK(Counted::destroyed == 6001);
}

TEST_CASE("unreachable cycles are reclaimed") {
  Counted::reset();
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  {
    Local<Counted> a(m, make<Counted>(m, 1));
    Local<Counted> b(m, make<Counted>(m, 2));
    a->next = b.get();
    b->next = a.get();
    rt.collect();
    CHECK(Counted::live == 2);  // held by the Locals
  }
  rt.collect();
  CHECK(Counted::live == 0);
  CHECK(Counted::destroyed == 2);
}

TEST_CASE("root scanner: single slots and ranges are roots") {
  Counted::reset();
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  std::vector<void*> stack;
  Counted* single = nullptr;
  m.set_root_scanner([&](Visitor& v) {
    v.visit(single);
    v.visit_range(const_cast<const void* const*>(stack.data()), stack.size());
  });
  single = make<Counted>(m, 7);
  for (int i = 0; i < 100; ++i) stack.push_back(make<Counted>(m, i));
  for (int i = 0; i < 100; ++i) make<Counted>(m, -1);
  rt.collect();
  CHECK(Counted::live == 101);
  CHECK(single->id == 7);
  for (int i = 0; i < 100; ++i) CHECK(static_cast<Counted*>(stack[i])->id == i);
  stack.resize(10);
  single = nullptr;
  rt.collect();
  CHECK(Counted::live == 10);
  m.set_root_scanner(nullptr);
  rt.collect();
  CHECK(Counted::live == 0);
}

TEST_CASE("Local handles root C++ locals across allocations, in LIFO scopes") {
  Counted::reset();
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  Local<Counted> outer(m, make<Counted>(m, 1));
  {
    Local<Counted> inner(m, make<Counted>(m, 2));
    rt.collect();
    CHECK(Counted::live == 2);
    inner = make<Counted>(m, 3);  // the old target loses its only root
    rt.collect();
    CHECK(Counted::live == 2);
    CHECK(inner->id == 3);
  }
  rt.collect();
  CHECK(Counted::live == 1);
  CHECK(outer->id == 1);
}

TEST_CASE("weak references are cleared exactly when their target dies") {
  Counted::reset();
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  Persistent<Counted> strong{make<Counted>(m, 1)};
  WeakRef<Counted> weak_alive{strong.get()};
  WeakRef<Counted> weak_dead{make<Counted>(m, 2)};
  // An in-heap weak field.
  struct Holder {
    WeakMember<Counted> weak;
    Member<Counted> strong;
    void trace(Visitor& v) const {
      v.visit(weak);
      v.visit(strong);
    }
  };
  Persistent<Holder> holder{make<Holder>(m)};
  holder->weak = make<Counted>(m, 3);
  holder->strong = make<Counted>(m, 4);
  WeakRef<Counted> weak_to_strong_field{holder->strong.get()};

  rt.collect();
  CHECK(weak_alive.get() == strong.get());
  CHECK(weak_dead.get() == nullptr);
  CHECK(holder->weak.get() == nullptr);
  CHECK(weak_to_strong_field.get() == holder->strong.get());
  CHECK(Counted::live == 2);

  strong.reset();
  rt.collect();
  CHECK(weak_alive.get() == nullptr);
  CHECK(weak_to_strong_field.get() != nullptr);
}

TEST_CASE("destructors run once, after death; leaf and trivially destructible types are fine") {
  Counted::reset();
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  for (int i = 0; i < 10000; ++i) {
    make<Counted>(m, i);
    make<test::Blob>(m);
  }
  rt.collect();
  CHECK(Counted::destroyed == 10000);
  rt.collect();
  rt.collect();
  CHECK(Counted::destroyed == 10000);  // not again
  CHECK(Counted::live == 0);
}

namespace {
struct Allocating {  // allocates from its constructor: itself must stay rooted
  Member<Counted> child;
  Member<Counted> other;
  Allocating(Mutator& m, Runtime& rt) {
    child = make<Counted>(m, 1);
    rt.collect();  // a collection while this object is half-built
    other = make<Counted>(m, 2);
  }
  void trace(Visitor& v) const {
    v.visit(child);
    v.visit(other);
  }
};
struct Throwing {
  static inline int destroyed = 0;
  explicit Throwing(bool fail) {
    if (fail) throw std::runtime_error("constructor failed");
  }
  ~Throwing() { ++destroyed; }
  void trace(Visitor&) const {}
};
}  // namespace

TEST_CASE("an object under construction is a root; a throwing constructor leaves no object") {
  Counted::reset();
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  Persistent<Allocating> a{make<Allocating>(m, m, rt)};
  CHECK(a->child->id == 1);
  CHECK(a->other->id == 2);
  CHECK(Counted::live == 2);

  Throwing::destroyed = 0;
  CHECK_THROWS_AS(make<Throwing>(m, true), std::runtime_error);
  make<Throwing>(m, false);
  rt.collect();
  CHECK(Throwing::destroyed == 1);  // only the constructed one
}

namespace {
struct Array {  // variable-length: Member slots after the object
  size_t length;
  explicit Array(size_t n) : length(n) {}
  Member<Counted>* slots() { return reinterpret_cast<Member<Counted>*>(this + 1); }
  const Member<Counted>* slots() const { return reinterpret_cast<const Member<Counted>*>(this + 1); }
  void trace(Visitor& v) const { v.visit_range(slots(), length); }
};
}  // namespace

TEST_CASE("AdditionalBytes: variable-size objects, small and large, are traced and zeroed") {
  Counted::reset();
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  for (size_t n : {size_t{3}, size_t{1000}, size_t{100000}}) {
    Local<Array> array(m, make<Array>(m, AdditionalBytes{n * sizeof(Member<Counted>)}, n));
    CHECK(usable_size(array.get()) >= sizeof(Array) + n * sizeof(Member<Counted>));
    for (size_t i = 0; i < n; ++i) CHECK(array->slots()[i].get() == nullptr);
    for (size_t i = 0; i < n; i += 2) array->slots()[i] = make<Counted>(m, static_cast<int64_t>(i));
    rt.collect();
    CHECK(Counted::live == static_cast<int64_t>((n + 1) / 2));
    for (size_t i = 0; i < n; i += 2) CHECK(array->slots()[i]->id == static_cast<int64_t>(i));
    array = nullptr;
    rt.collect();
    CHECK(Counted::live == 0);
  }
}
