// span.cpp — span initialisation and sweeping (see span.h for invariants).
#include "span.h"

#include "errors.h"
#include "typed_classes.h"

namespace tricolor::gc {

inline constexpr unsigned char kPoisonByte = 0xdb;

size_t Span::allocated_slots() const {
  size_t count = 0;
  for (size_t w = 0; w < bitmap_words(); ++w) count += std::popcount(alloc_bits[w].load(std::memory_order_relaxed));
  return count;
}

void Span::zero_free_slots() {
  size_t index = 0;
  while (index < slot_count) {
    if (is_allocated(index)) {
      ++index;
      continue;
    }
    size_t end = index + 1;
    while (end < slot_count && !is_allocated(end)) ++end;
    std::memset(reinterpret_cast<void*>(slot_address(index)), 0, (end - index) * slot_bytes);
    index = end;
  }
  needs_zero = false;
}

void Span::init_small(uint16_t cls) {
  const bool typed = cls >= kNumSizeClasses;
  const TypedClass* typed_class = typed ? &typed_classes().entry(cls) : nullptr;
  const uint8_t size = typed ? typed_class->size_class : static_cast<uint8_t>(cls);
  const SizeClass& size_class_info = kSizeClasses[size];
  size_class = size;
  span_class = cls;
  type = typed ? typed_class->type : nullptr;
  header_bytes = typed ? 0 : kHeaderBytes;
  slot_bytes = size_class_info.slot_bytes;
  slot_count = size_class_info.slots_per_span;
  divide_magic = size_class_info.divide_magic;
  has_destructors = typed && type->destroy != nullptr;
  for (size_t w = 0; w < kBitmapWords; ++w) {
    alloc_bits[w].store(0, std::memory_order_relaxed);
    mark_bits[w].store(0, std::memory_order_relaxed);
  }
  rewind_cursor();
  geometry_version.fetch_add(1, std::memory_order_release);
}

Span::SweepResult Span::sweep(bool poison) {
  SweepResult result{0, 0};
  for (size_t w = 0; w < bitmap_words(); ++w) {
    const uint64_t marked = mark_bits[w].load(std::memory_order_relaxed);
    const uint64_t allocated = alloc_bits[w].load(std::memory_order_relaxed);
    if (marked & ~allocated) [[unlikely]]
      fatal("sweep: a slot is marked but not allocated (a pointer into free memory was traced)");
    uint64_t dead = allocated & ~marked;
    result.freed_slots += std::popcount(dead);
    result.live_slots += std::popcount(marked);
    while (dead != 0) {
      const size_t index = w * 64 + std::countr_zero(dead);
      dead &= dead - 1;
      if (has_destructors) {
        void* object = object_at(index);
        const TypeInfo* object_type = type_of(object);
        if (object_type->destroy != nullptr) object_type->destroy(object);
      }
      if (poison) std::memset(reinterpret_cast<void*>(slot_address(index)), kPoisonByte, slot_bytes);
    }
    alloc_bits[w].store(marked, std::memory_order_relaxed);
    mark_bits[w].store(0, std::memory_order_relaxed);
  }
  if (result.freed_slots != 0) needs_zero = true;
  if (result.live_slots == 0) has_destructors = false;
  rewind_cursor();
  return result;
}

void Span::destroy_all() {
  if (!has_destructors) return;
  for (size_t w = 0; w < bitmap_words(); ++w) {
    for (uint64_t allocated = alloc_bits[w].load(std::memory_order_relaxed); allocated != 0; allocated &= allocated - 1) {
      void* object = object_at(w * 64 + std::countr_zero(allocated));
      const TypeInfo* object_type = type_of(object);
      if (object_type->destroy != nullptr) object_type->destroy(object);
    }
  }
  has_destructors = false;
}

}  // namespace tricolor::gc
