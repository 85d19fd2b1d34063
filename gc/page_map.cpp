// page_map.cpp — leaf allocation for the page map (see page_map.h).
#include "page_map.h"

#include <string>

#include "errors.h"
#include "unmanaged_memory.h"

namespace tricolor::gc {

PageMap::~PageMap() {
  for (auto& entry : root_) unmanaged_free(entry.load(std::memory_order_relaxed));
}

size_t PageMap::assign(uintptr_t base, size_t bytes, Span* span) {
  size_t new_metadata = 0;
  const uintptr_t first = base >> kSpanShift;
  const uintptr_t last = (base + bytes - 1) >> kSpanShift;
  for (uintptr_t granule = first; granule <= last; ++granule) {
    if (granule >> (kRootBits + kLeafBits))
      fatal("page map: address beyond 48 bits: " + std::to_string(granule << kSpanShift));
    std::atomic<Leaf*>& slot = root_[granule >> kLeafBits];
    Leaf* leaf = slot.load(std::memory_order_relaxed);
    if (leaf == nullptr) {
      if (span == nullptr) continue;
      leaf = static_cast<Leaf*>(unmanaged_allocate_zeroed(sizeof(Leaf)));
      if (leaf == nullptr) throw HeapExhausted("tricolor: out of memory for the page map");
      slot.store(leaf, std::memory_order_release);
      ++leaves_;
      new_metadata += sizeof(Leaf);
    }
    leaf->spans[granule & ((size_t{1} << kLeafBits) - 1)].store(span, std::memory_order_release);
  }
  return new_metadata;
}

}  // namespace tricolor::gc
