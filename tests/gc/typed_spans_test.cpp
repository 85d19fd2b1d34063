// typed_spans_test.cpp — spans of one type, whose objects have no header:
// which types get one (the header would cost a size class; a throwing
// constructor leaves nothing for the sweep to destroy), where their objects
// lie, that they are traced, kept, reclaimed and destroyed like any other
// object, that a span reused for another class loses its type, and the
// registry's numbering and its bound.
#include <doctest/doctest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "../../gc/collector.h"
#include "../../gc/heap.h"
#include "../../gc/typed_classes.h"
#include "test_types.h"

using namespace tricolor;
using namespace tricolor::gc;

namespace {

// 16 bytes: 16-byte slots without a header, 24 with one.
struct Pair {
  Member<Pair> next;
  int64_t value = 0;
  explicit Pair(int64_t v = 0) : value(v) {}
  void trace(Visitor& v) const { v.visit(next); }
};

// 56 bytes: the header fits in the same 64-byte class, so it stays.
struct Wide {
  static constexpr bool kHasNoPointers = true;
  int64_t words[7] = {};
};

// A destructor and a constructor that may throw: a throw would leave a
// half-built object whose destructor must not run, so it keeps its header.
struct Owning {
  static inline int destroyed = 0;
  Member<Owning> next;
  int64_t id = 0;
  explicit Owning(int64_t i) : id(i) {
    if (i < 0) throw std::invalid_argument("negative id");
  }
  ~Owning() { ++destroyed; }
  void trace(Visitor& v) const { v.visit(next); }
};

// The same, with a constructor that cannot throw: typed.
struct OwningNoexcept {
  static inline int destroyed = 0;
  Member<OwningNoexcept> next;
  int64_t id = 0;
  explicit OwningNoexcept(int64_t i) noexcept : id(i) {}
  ~OwningNoexcept() { ++destroyed; }
  void trace(Visitor& v) const { v.visit(next); }
};

// Trivially destructible, constructor may throw: typed, a throw leaves a
// dead slot with nothing to destroy.
struct Checked16 {
  Member<Checked16> next;
  int64_t value = 0;
  explicit Checked16(int64_t v) : value(v) {
    if (v < 0) throw std::invalid_argument("negative value");
  }
  void trace(Visitor& v) const { v.visit(next); }
};

Span* span_of(Runtime& rt, const void* object) { return rt.collector().heap().span_of(object); }

}  // namespace

TEST_CASE("the header moves an object to a bigger class only for some sizes") {
  static_assert(header_costs_a_size_class(16) && header_costs_a_size_class(24) && header_costs_a_size_class(32));
  static_assert(header_costs_a_size_class(48) && !header_costs_a_size_class(56) && !header_costs_a_size_class(64 - 8));
  static_assert(!header_costs_a_size_class(0) && !header_costs_a_size_class(kMaxSmallBytes));
  for (size_t bytes = 1; bytes + kHeaderBytes <= kMaxSmallBytes; ++bytes) {
    CAPTURE(bytes);
    REQUIRE(header_costs_a_size_class(bytes) ==
            (kSizeClasses[size_class_index(bytes)].slot_bytes < bytes + kHeaderBytes));
  }
  static_assert(tricolor::detail::kTypedSpan<Pair, int64_t>);
  static_assert(!tricolor::detail::kTypedSpan<Wide>);
  static_assert(!tricolor::detail::kTypedSpan<Owning, int64_t>);
  static_assert(tricolor::detail::kTypedSpan<OwningNoexcept, int64_t>);
  static_assert(tricolor::detail::kTypedSpan<Checked16, int64_t>);
}

TEST_CASE("a typed span holds objects of its type back to back, without headers") {
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  Local<Pair> first(m, make<Pair>(m, 1));
  Local<Pair> second(m, make<Pair>(m, 2));
  Span* span = span_of(rt, first.get());
  REQUIRE(span != nullptr);
  CHECK(span->type == &TypeInfoFor<Pair>::info);
  CHECK(span->header_bytes == 0);
  CHECK(span->span_class == TypedClassOf<Pair>::get());
  CHECK(span->span_class >= kNumSizeClasses);
  CHECK(span->slot_bytes == 16);
  CHECK(usable_size(first.get()) == 16);
  CHECK(reinterpret_cast<uintptr_t>(first.get()) % 16 == 0);
  CHECK(span->offset_in_object(first.get()) == 0);
  CHECK(rt.collector().heap().type_of(first.get()) == &TypeInfoFor<Pair>::info);
  // A fresh span hands out its slots in order.
  CHECK(reinterpret_cast<uintptr_t>(second.get()) - reinterpret_cast<uintptr_t>(first.get()) == 16);
  // Another type of the same size gets spans of its own.
  Local<Checked16> other(m, make<Checked16>(m, 3));
  CHECK(span_of(rt, other.get()) != span);
  CHECK(span_of(rt, other.get())->type == &TypeInfoFor<Checked16>::info);
}

TEST_CASE("types that keep their header") {
  Runtime rt{test::quiet_options()};
  MutatorScope m(rt);
  Local<Wide> wide(m, make<Wide>(m));
  Local<Owning> owning(m, make<Owning>(m, 1));
  Local<Pair> extra(m, make<Pair>(m, AdditionalBytes{8}, 1));
  for (const void* object : {static_cast<const void*>(wide.get()), static_cast<const void*>(owning.get()),
                             static_cast<const void*>(extra.get())}) {
    Span* span = span_of(rt, object);
    CHECK(span->type == nullptr);
    CHECK(span->header_bytes == kHeaderBytes);
    CHECK(span->span_class < kNumSizeClasses);
  }
  CHECK(usable_size(wide.get()) == 56);
  CHECK(usable_size(owning.get()) == 16);
  CHECK(usable_size(extra.get()) == 24);
  CHECK(rt.collector().heap().type_of(owning.get()) == &TypeInfoFor<Owning>::info);
  // AdditionalBytes{0} is the plain make: typed.
  Local<Pair> plain(m, make<Pair>(m, AdditionalBytes{0}, 2));
  CHECK(span_of(rt, plain.get())->type == &TypeInfoFor<Pair>::info);
}

TEST_CASE("typed objects are traced and kept while reachable, then reclaimed and destroyed") {
  Options options = test::quiet_options();
  options.verify = true;
  Runtime rt{options};
  MutatorScope m(rt);
  OwningNoexcept::destroyed = 0;
  constexpr int kCount = 20000;  // several spans
  {
    Local<OwningNoexcept> head(m, make<OwningNoexcept>(m, 0));
    for (int i = 1; i < kCount; ++i) {
      OwningNoexcept* node = make<OwningNoexcept>(m, i);
      node->next = head.get();
      head = node;
    }
    // Garbage between the survivors: every other list gets dropped.
    for (int i = 0; i < kCount; ++i) make<OwningNoexcept>(m, -i);
    REQUIRE(span_of(rt, head.get())->type == &TypeInfoFor<OwningNoexcept>::info);
    rt.collect();
    rt.collect();
    CHECK(OwningNoexcept::destroyed == kCount);
    int64_t expected = kCount - 1;
    int seen = 0;
    for (OwningNoexcept* node = head.get(); node != nullptr; node = node->next.get()) {
      REQUIRE(node->id == expected--);
      ++seen;
    }
    CHECK(seen == kCount);
  }
  rt.collect();
  rt.collect();
  CHECK(OwningNoexcept::destroyed == 2 * kCount);
  CHECK(rt.stats().live_bytes == 0);
}

TEST_CASE("a throwing constructor in a typed span leaves a dead slot the sweep reclaims") {
  Options options = test::quiet_options();
  options.verify = true;
  Runtime rt{options};
  MutatorScope m(rt);
  Local<Checked16> kept(m, make<Checked16>(m, 1));
  CHECK_THROWS_AS(make<Checked16>(m, -1), std::invalid_argument);
  Local<Checked16> after(m, make<Checked16>(m, 2));
  CHECK(span_of(rt, after.get()) == span_of(rt, kept.get()));
  rt.collect();
  rt.collect();
  CHECK(kept->value == 1);
  CHECK(after->value == 2);
  CHECK(rt.stats().live_bytes == 2 * 16);
}

TEST_CASE("a span set up for another class loses its type and gets headers back") {
  const uint16_t typed = TypedClassOf<OwningNoexcept>::get();
  REQUIRE(typed != kNoTypedClass);
  alignas(kSpanBytes) static unsigned char memory[kSpanBytes];
  Span span;
  span.base = reinterpret_cast<uintptr_t>(memory);
  span.bytes = kSpanBytes;
  span.init_small(typed);
  CHECK(span.type == &TypeInfoFor<OwningNoexcept>::info);
  CHECK(span.header_bytes == 0);
  CHECK(span.has_destructors);
  CHECK(span.slot_bytes == 16);
  CHECK(span.slot_index(memory + 32) == 2);
  const uint8_t untyped = size_class_index(24);
  span.init_small(untyped);
  CHECK(span.type == nullptr);
  CHECK(span.header_bytes == kHeaderBytes);
  CHECK_FALSE(span.has_destructors);
  CHECK(span.span_class == untyped);
  CHECK(span.slot_bytes == 24);
  CHECK(span.slot_index(memory + 2 * 24 + kHeaderBytes) == 2);
}

TEST_CASE("the registry numbers types after the size classes, once each, up to its capacity") {
  TypedClassRegistry registry(2);
  const TypeInfo* a = &TypeInfoFor<Pair>::info;
  const TypeInfo* b = &TypeInfoFor<Checked16>::info;
  const TypeInfo* c = &TypeInfoFor<OwningNoexcept>::info;
  CHECK(registry.span_class_of(a) == kNumSizeClasses);
  CHECK(registry.span_class_of(b) == kNumSizeClasses + 1);
  CHECK(registry.span_class_of(a) == kNumSizeClasses);
  CHECK(registry.span_class_of(c) == kNoTypedClass);
  CHECK(registry.size() == 2);
  CHECK(registry.entry(kNumSizeClasses + 1).type == b);
  CHECK(registry.entry(kNumSizeClasses + 1).size_class == size_class_index(16));
  // The process's registry: one number per type, the same from every thread.
  const uint16_t pair_class = TypedClassOf<Pair>::get();
  uint16_t from_thread = 0;
  std::thread([&] { from_thread = typed_classes().span_class_of(a); }).join();
  CHECK(from_thread == pair_class);
  CHECK(typed_classes().entry(pair_class).type == a);
}
