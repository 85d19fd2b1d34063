// make.h — make<T>(mutator, args...): allocate and construct a managed object.
//
// Owns: the one way to create managed objects. The storage is zero before the
// constructor runs; the object is a root while its constructor runs (so a
// constructor may allocate); if the constructor throws, the slot becomes an
// inert filler that sweeping reclaims without running ~T.
// `make<T>(m, AdditionalBytes{n}, args...)` reserves n bytes after the object
// for inline variable-length data (a string's characters, an array's slots);
// T's trace must visit any managed pointers stored there.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

#include "mutator.h"
#include "span.h"
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
// Constructs T in freshly allocated, zeroed `storage` (see make()).
template <Managed T, class... Args>
T* construct_managed(Mutator& mutator, void* storage, Args&&... args) {
  mutator.push_constructing(storage);
  try {
    T* object = new (storage) T(std::forward<Args>(args)...);
    mutator.pop_constructing();
    return object;
  } catch (...) {
    gc::header_of(storage)->type = &gc::kFillerType;
    mutator.pop_constructing();
    throw;
  }
}
}  // namespace detail

template <Managed T, class... Args>
T* make(Mutator& mutator, AdditionalBytes extra, Args&&... args) {
  void* storage = mutator.allocate(sizeof(T) + extra.bytes, &TypeInfoFor<T>::info);
  return detail::construct_managed<T>(mutator, storage, std::forward<Args>(args)...);
}

// make() for a big object whose caller must not stall (a map's new bucket
// array): the assist debt it incurs during a mark is paid later in bounded
// slices (Mutator::allocate_with_deferred_assist).
template <Managed T, class... Args>
T* make_with_deferred_assist(Mutator& mutator, AdditionalBytes extra, Args&&... args) {
  void* storage = mutator.allocate_with_deferred_assist(sizeof(T) + extra.bytes, &TypeInfoFor<T>::info);
  return detail::construct_managed<T>(mutator, storage, std::forward<Args>(args)...);
}

template <Managed T, class... Args>
T* make(Mutator& mutator, Args&&... args) {
  return make<T>(mutator, AdditionalBytes{0}, std::forward<Args>(args)...);
}

// The size of `object`'s slot minus the header: what it may use in total,
// sizeof(T) + additional bytes, rounded up to its size class.
size_t usable_size(const void* object);

}  // namespace tricolor
