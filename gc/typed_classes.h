// typed_classes.h — span classes of a single type, whose objects have no header.
//
// Owns: the registry that gives a small managed type a span class of its own
// (TypedClassRegistry, one per process: typed_classes()), and the rule for
// which types get one (kHeaderFree). A span of a typed class holds objects of
// that one type only, so the span descriptor says the type and the objects
// carry no 8-byte header: a 16-byte object takes a 16-byte slot, not 24.
// Span classes are numbered 0 .. kNumSizeClasses - 1 for the size classes
// (objects with a header, any type), then one per registered type.
// Invariants:
//  - a registered type keeps its span class for the life of the process, and
//    a span class names one (type, size class) pair;
//  - an entry is complete before its number is published (release), and is
//    read only by a thread that acquired the number;
//  - a type gets a typed class only if dropping its header puts it in a
//    smaller size class (otherwise the header costs nothing and one span per
//    type per thread would only waste memory).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "size_classes.h"
#include "span.h"
#include "type_info.h"

namespace tricolor::gc {

inline constexpr size_t kMaxTypedClasses = 256;
inline constexpr size_t kNumSpanClasses = kNumSizeClasses + kMaxTypedClasses;
// A type the registry had no room for: it is allocated with a header.
inline constexpr uint16_t kNoTypedClass = UINT16_MAX;

// True if an object of `bytes` takes a smaller slot without its header.
constexpr bool header_costs_a_size_class(size_t bytes) {
  return bytes >= 1 && bytes + kHeaderBytes <= kMaxSmallBytes &&
         size_class_by_search(bytes) < size_class_by_search(bytes + kHeaderBytes);
}
template <class T>
inline constexpr bool kHeaderFree = header_costs_a_size_class(sizeof(T));
// The slot a small T from make<T>(m, args...) takes, for a T that make()
// gives a typed span when it can (trivially destructible, or a constructor
// that cannot throw: gc/make.h). For benchmarks sizing a heap in slots.
template <class T>
inline constexpr size_t kSlotBytesOf =
    kSizeClasses[size_class_by_search(kHeaderFree<T> ? sizeof(T) : sizeof(T) + kHeaderBytes)].slot_bytes;

struct TypedClass {
  const TypeInfo* type = nullptr;
  uint8_t size_class = 0;  // the class of sizeof(type)
};

class TypedClassRegistry {
 public:
  explicit TypedClassRegistry(size_t capacity = kMaxTypedClasses)
      : capacity_(capacity < kMaxTypedClasses ? capacity : kMaxTypedClasses) {}
  TypedClassRegistry(const TypedClassRegistry&) = delete;
  TypedClassRegistry& operator=(const TypedClassRegistry&) = delete;

  // The span class of `type` (registering it the first time), or
  // kNoTypedClass once `capacity` types are registered. `type->size` must
  // satisfy header_costs_a_size_class.
  uint16_t span_class_of(const TypeInfo* type);
  // The entry of a typed span class (≥ kNumSizeClasses) obtained from span_class_of.
  const TypedClass& entry(uint16_t span_class) const { return entries_[span_class - kNumSizeClasses]; }
  size_t size() const { return count_.load(std::memory_order_acquire); }

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::atomic<size_t> count_{0};
  TypedClass entries_[kMaxTypedClasses];
};

// The process's registry (every heap shares the numbering).
TypedClassRegistry& typed_classes();

// The span class of T, registered on first use; the number is cached in a
// constant-initialised atomic, so the allocation fast path pays one load.
template <class T>
struct TypedClassOf {
  static constinit inline std::atomic<uint16_t> cached{0};  // 0: not asked yet (0 is a size class)
  static uint16_t get() {
    uint16_t span_class = cached.load(std::memory_order_acquire);
    if (span_class == 0) [[unlikely]] {
      span_class = typed_classes().span_class_of(&TypeInfoFor<T>::info);
      cached.store(span_class, std::memory_order_release);
    }
    return span_class;
  }
};

}  // namespace tricolor::gc
