// unmanaged_memory.h — where the collector's own memory comes from: arenas,
// large objects, span descriptors, mark packets, page-map leaves and a map's
// overflow chunks. It keeps one invariant: every block is freed through
// unmanaged_free by the allocator that gave it.
//
// It comes from mimalloc, except under ThreadSanitizer, which takes it from
// the C library, whose calls TSan intercepts: Debian's mimalloc is not
// instrumented, so TSan cannot see it hand a block one thread freed to
// another, and reports the new owner's writes against the old owner's reads.
// (ASan builds keep mimalloc: with the C library there, each Lox test
// process ran 77 ms slower, and the ASan lox_corpus test took 83-94 s
// against 63 s.)
// The choice is made when the library is built (unmanaged_memory.cpp), so an
// embedder's translation units and the library's always agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace tricolor::gc {

// `bytes` with at least `alignment` (a power of two), or nullptr if refused.
void* unmanaged_allocate(size_t bytes, size_t alignment = alignof(std::max_align_t));
// The same, zero-filled.
void* unmanaged_allocate_zeroed(size_t bytes, size_t alignment = alignof(std::max_align_t));
// Gives back a block from either of the above; nullptr is ignored.
void unmanaged_free(void* memory);

// True where the C library is the allocator (ThreadSanitizer builds).
bool unmanaged_memory_from_libc();

// For the collector's own containers (mark-time vectors, the verifier's maps).
template <class T>
struct UnmanagedAllocator {
  using value_type = T;
  UnmanagedAllocator() noexcept = default;
  template <class U>
  UnmanagedAllocator(const UnmanagedAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    void* memory = unmanaged_allocate(n * sizeof(T), alignof(T));
    if (memory == nullptr) throw std::bad_alloc();
    return static_cast<T*>(memory);
  }
  void deallocate(T* memory, size_t) noexcept { unmanaged_free(memory); }
  template <class U>
  bool operator==(const UnmanagedAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace tricolor::gc
