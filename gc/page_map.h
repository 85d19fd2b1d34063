// page_map.h — address → span in O(1).
//
// Owns: a two-level radix table over 64 KiB granules of the 48-bit address
// space (level 1: 2^16 entries indexed by address bits 47..32, level 2: 2^16
// spans per 4 GiB leaf). The marker and the verifier use it to find the span,
// and so the mark bit, of any object pointer; it also tells whether an
// address belongs to the managed heap at all.
// Invariant: an entry is set before any object of its span is handed out and
// cleared only after the span's memory went back to mimalloc. Lookups are
// lock-free (acquire loads); updates happen under the heap lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "size_classes.h"

namespace tricolor::gc {

struct Span;

class PageMap {
 public:
  static constexpr size_t kLeafBits = 16;
  static constexpr size_t kRootBits = 48 - kSpanShift - kLeafBits;

  PageMap() = default;
  PageMap(const PageMap&) = delete;
  PageMap& operator=(const PageMap&) = delete;
  ~PageMap();

  // The span holding `address`, or null if it is not in the managed heap.
  Span* lookup(const void* address) const {
    const uintptr_t granule = reinterpret_cast<uintptr_t>(address) >> kSpanShift;
    if (granule >> (kRootBits + kLeafBits)) return nullptr;
    Leaf* leaf = root_[granule >> kLeafBits].load(std::memory_order_acquire);
    if (leaf == nullptr) return nullptr;
    return leaf->spans[granule & ((size_t{1} << kLeafBits) - 1)].load(std::memory_order_acquire);
  }

  // Points every granule of [base, base + bytes) at `span` (null to clear).
  // Caller holds the heap lock. Returns metadata bytes newly allocated.
  size_t assign(uintptr_t base, size_t bytes, Span* span);

  size_t metadata_bytes() const { return leaves_ * sizeof(Leaf); }

 private:
  struct Leaf {
    std::atomic<Span*> spans[size_t{1} << kLeafBits];
  };
  std::atomic<Leaf*> root_[size_t{1} << kRootBits] = {};
  size_t leaves_ = 0;
};

}  // namespace tricolor::gc
