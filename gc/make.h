// make.h — make<T>(mutator, args...): allocate and construct a managed object.
//
// Owns: the one way to create managed objects, and the choice of where: a
// small type whose header would cost it a size class goes to spans of its
// own type without headers (gc/typed_classes.h), everything else to slots
// that start with a header. The storage is zero before the
// constructor runs; the object is a root while its constructor runs (so a
// constructor may allocate); if the constructor throws, the slot becomes an
// inert filler that sweeping reclaims without running ~T.
// `make<T>(m, AdditionalBytes{n}, args...)` reserves n bytes after the object
// for inline variable-length data (a string's characters, an array's slots);
// T's trace must visit any managed pointers stored there.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "mutator.h"
#include "span.h"
#include "typed_classes.h"
#include "type_info.h"

namespace tricolor {

struct AdditionalBytes {
  size_t bytes;
};

namespace gc {
// Header of an object whose constructor threw: no trace, no destructor.
inline constexpr TypeInfo kFillerType{"<filler: constructor threw>", 0, nullptr, nullptr, nullptr, nullptr};
}  // namespace gc

namespace detail {
// Constructs T in freshly allocated, zeroed `storage` (see make()). With a
// header, a throwing constructor leaves a filler; in a typed span (no
// header) T is trivially destructible or its constructor cannot throw, so a
// throw leaves nothing a sweep must not run.
template <Managed T, bool kHasHeader, class... Args>
T* construct_managed(Mutator& mutator, void* storage, Args&&... args) {
  mutator.push_constructing(storage);
  try {
    T* object = new (storage) T(std::forward<Args>(args)...);
    mutator.pop_constructing();
    return object;
  } catch (...) {
    if constexpr (kHasHeader) gc::header_of(storage)->type = &gc::kFillerType;
    mutator.pop_constructing();
    throw;
  }
}

// A typed span (no header) is used for T when dropping the header saves a
// size class, and a constructor that throws leaves no half-built object
// whose destructor the sweep would run: the constructor cannot throw, or
// there is no destructor (the dead slot is then simply reclaimed).
template <class T, class... Args>
inline constexpr bool kTypedSpan =
    gc::kHeaderFree<T> && (std::is_trivially_destructible_v<T> || std::is_nothrow_constructible_v<T, Args...>);
}  // namespace detail

template <Managed T, class... Args>
T* make(Mutator& mutator, AdditionalBytes extra, Args&&... args) {
  if constexpr (detail::kTypedSpan<T, Args...>) {
    const uint16_t span_class = extra.bytes == 0 ? gc::TypedClassOf<T>::get() : gc::kNoTypedClass;
    if (span_class != gc::kNoTypedClass) [[likely]]
      return detail::construct_managed<T, false>(mutator, mutator.allocate_typed(span_class),
                                                 std::forward<Args>(args)...);
  }
  void* storage = mutator.allocate(sizeof(T) + extra.bytes, &TypeInfoFor<T>::info);
  return detail::construct_managed<T, true>(mutator, storage, std::forward<Args>(args)...);
}

// make() for a big object whose caller must not stall (a map's new bucket
// array): the assist debt it incurs during a mark is paid later in bounded
// slices (Mutator::allocate_with_deferred_assist).
template <Managed T, class... Args>
T* make_with_deferred_assist(Mutator& mutator, AdditionalBytes extra, Args&&... args) {
  void* storage = mutator.allocate_with_deferred_assist(sizeof(T) + extra.bytes, &TypeInfoFor<T>::info);
  return detail::construct_managed<T, true>(mutator, storage, std::forward<Args>(args)...);
}

template <Managed T, class... Args>
T* make(Mutator& mutator, Args&&... args) {
  return make<T>(mutator, AdditionalBytes{0}, std::forward<Args>(args)...);
}

// The size of `object`'s slot minus its header (if any): what it may use in total,
// sizeof(T) + additional bytes, rounded up to its size class.
size_t usable_size(const void* object);

}  // namespace tricolor
