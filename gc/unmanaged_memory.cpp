// unmanaged_memory.cpp — mimalloc, or the C library under ThreadSanitizer
// (see unmanaged_memory.h for why).
#include "unmanaged_memory.h"

#include <cstdlib>
#include <cstring>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TRICOLOR_LIBC_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define TRICOLOR_LIBC_ALLOCATOR 1
#endif

#ifndef TRICOLOR_LIBC_ALLOCATOR
#include <mimalloc.h>
#endif

namespace tricolor::gc {

#ifdef TRICOLOR_LIBC_ALLOCATOR

void* unmanaged_allocate(size_t bytes, size_t alignment) {
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  void* memory = nullptr;
  return posix_memalign(&memory, alignment, bytes == 0 ? 1 : bytes) == 0 ? memory : nullptr;
}

void* unmanaged_allocate_zeroed(size_t bytes, size_t alignment) {
  void* memory = unmanaged_allocate(bytes, alignment);
  if (memory != nullptr) std::memset(memory, 0, bytes);
  return memory;
}

void unmanaged_free(void* memory) { std::free(memory); }

bool unmanaged_memory_from_libc() { return true; }

#else

void* unmanaged_allocate(size_t bytes, size_t alignment) { return mi_malloc_aligned(bytes, alignment); }

void* unmanaged_allocate_zeroed(size_t bytes, size_t alignment) { return mi_zalloc_aligned(bytes, alignment); }

void unmanaged_free(void* memory) { mi_free(memory); }

bool unmanaged_memory_from_libc() { return false; }

#endif

}  // namespace tricolor::gc
