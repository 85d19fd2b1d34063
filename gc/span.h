// span.h — a span: 64 KiB of slots of one span class, or one large object.
//
// Owns: the span descriptor with its side bitmaps (allocation bits and mark
// bits; marking never writes into object memory) and the per-span operations:
// find the object that holds an address, set a mark bit, hand out a free slot,
// and sweep (rebuild the free slots from the mark bits).
// Invariants:
//  - marked ⊆ allocated: only allocated slots are ever marked (the marker is
//    given object starts only); sweeping therefore sets alloc := mark.
//  - a span is either owned by exactly one mutator's allocation cache (only
//    that thread allocates from it, with no atomics) or by the heap's central
//    lists (guarded by the heap lock); it is swept only when not owned by a
//    cache.
//  - needs_zero is false only while every free slot is known to hold zeros
//    (fresh or decommitted memory, or cleared by zero_free_slots()); a span
//    is handed to an allocation cache only with needs_zero false, so the
//    allocation fast path never clears memory.
//  - a span of a typed class (typed_classes.h) holds objects of `type` only,
//    with no header (header_bytes 0); any other span's objects each start
//    kHeaderBytes into their slot, after the header naming their type.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "size_classes.h"
#include "type_info.h"

namespace tricolor::gc {

class Arena;

// An object outside a typed span is preceded by one header word: its TypeInfo.
inline constexpr size_t kHeaderBytes = sizeof(void*);
inline constexpr uint8_t kLargeClass = 0xff;
inline constexpr size_t kBitmapWords = kMaxSlotsPerSpan / 64;

struct ObjectHeader {
  const TypeInfo* type;
};

inline ObjectHeader* header_of(const void* object) {
  return reinterpret_cast<ObjectHeader*>(reinterpret_cast<uintptr_t>(object) - kHeaderBytes);
}
// The object in a slot that starts with a header (a large object, or a span that is not typed).
inline void* object_of_slot(uintptr_t slot) { return reinterpret_cast<void*>(slot + kHeaderBytes); }

enum class SpanState : uint8_t {
  kFree,      // no objects, memory committed (may be dirty)
  kReleased,  // no objects, memory returned to the OS (reads back as zero)
  kCached,    // owned by one mutator's allocation cache
  kPartial,   // in the heap's partial list for its class
  kFull,      // every slot allocated; found again only by sweeping
  kLarge,     // one large object
  kSweeping,  // claimed by one sweeper (a background sweeper or a mutator)
};

struct Span {
  uintptr_t base = 0;        // address of slot 0
  size_t bytes = 0;          // kSpanBytes, or the large object's rounded size
  uint64_t divide_magic = 0;
  uint32_t slot_bytes = 0;
  uint32_t slot_count = 0;
  uint8_t size_class = 0;
  uint16_t span_class = 0;       // size_class, or a typed class (typed_classes.h)
  uint32_t header_bytes = kHeaderBytes;  // 0 in a typed span
  const TypeInfo* type = nullptr;        // a typed span's one type; null: headers say
  SpanState state = SpanState::kFree;
  bool needs_zero = false;
  bool prefault_queued = false;  // released, its run queued for populating (heap lock)
  bool has_destructors = false;  // some slot's type has a destructor
  // Sweep generation, as in Go: the heap's generation sg advances by 2 when a
  // mark ends; sweepgen == sg - 2: needs sweeping, sg - 1: being swept,
  // sg: swept. Written under the heap lock, read lock-free by weak reads.
  std::atomic<uint32_t> sweepgen{0};
  // Bumped (release) each time init_small() rewrites the geometry above; a
  // thread that found the span through an object pointer (a marker) loads it
  // (acquire) before reading slot_bytes, slot_count or divide_magic.
  std::atomic<uint32_t> geometry_version{0};
  Arena* arena = nullptr;        // null for large spans
  Span* next = nullptr;          // intrusive list links (central lists)
  Span* prev = nullptr;

  // Allocation cursor, used only by the owning cache: free_cache holds the
  // not-yet-handed-out free bits of word cursor_word - 1.
  uint32_t cursor_word = 0;
  uint64_t free_cache = 0;

  // Atomics accessed relaxed: written by the owner (cache or sweeper), read
  // by checked-build markers and the verifier on other threads.
  std::atomic<uint64_t> alloc_bits[kBitmapWords] = {};
  std::atomic<uint64_t> mark_bits[kBitmapWords] = {};

  size_t bitmap_words() const { return (slot_count + 63) / 64; }
  uint64_t valid_mask(size_t word) const {
    const size_t rest = slot_count - word * 64;
    return rest >= 64 ? ~uint64_t{0} : (uint64_t{1} << rest) - 1;
  }
  bool is_large() const { return size_class == kLargeClass; }
  // For threads that reach the span through an object rather than the heap
  // lock: makes the latest init_small() visible. A plain load on x86-64.
  void acquire_geometry() const { geometry_version.load(std::memory_order_acquire); }

  // Slot index of the object starting `object`'s slot (object = slot + header_bytes).
  size_t slot_index(const void* object) const {
    return is_large() ? 0 : static_cast<size_t>((slot_offset(object) * divide_magic) >> 32);
  }
  uintptr_t slot_address(size_t index) const { return base + index * slot_bytes; }
  void* object_at(size_t index) const { return reinterpret_cast<void*>(slot_address(index) + header_bytes); }
  // Offset of `object` from the start of the object in its slot (0: a valid object start).
  uintptr_t offset_in_object(const void* object) const {
    return is_large() ? slot_offset(object) : slot_offset(object) % slot_bytes;
  }
  // The type of `object`, which starts a slot of this span.
  const TypeInfo* type_of(const void* object) const { return type != nullptr ? type : header_of(object)->type; }
  // What an object here may use: its slot minus the header.
  size_t object_bytes() const { return (is_large() ? bytes : slot_bytes) - header_bytes; }

  // Marks the slot; true if it was white (the caller then greys it).
  bool try_mark(size_t index) {
    const uint64_t bit = uint64_t{1} << (index & 63);
    std::atomic<uint64_t>& word = mark_bits[index >> 6];
    if (word.load(std::memory_order_relaxed) & bit) return false;
    return (word.fetch_or(bit, std::memory_order_relaxed) & bit) == 0;
  }
  // The same for a marker that is the only one running (the stop-the-world
  // collector): no locked instruction.
  bool try_mark_exclusive(size_t index) {
    const uint64_t bit = uint64_t{1} << (index & 63);
    std::atomic<uint64_t>& word = mark_bits[index >> 6];
    const uint64_t old = word.load(std::memory_order_relaxed);
    if (old & bit) return false;
    word.store(old | bit, std::memory_order_relaxed);
    return true;
  }
  // Undoes a mark (a weak read that lost the race with the end of marking).
  void clear_mark(size_t index) {
    mark_bits[index >> 6].fetch_and(~(uint64_t{1} << (index & 63)), std::memory_order_relaxed);
  }
  bool is_marked(size_t index) const {
    return (mark_bits[index >> 6].load(std::memory_order_relaxed) >> (index & 63)) & 1;
  }
  bool is_allocated(size_t index) const {
    return (alloc_bits[index >> 6].load(std::memory_order_relaxed) >> (index & 63)) & 1;
  }

  // Bytes from slot 0 to the start of `object`'s slot.
  uintptr_t slot_offset(const void* object) const {
    return reinterpret_cast<uintptr_t>(object) - header_bytes - base;
  }

  // Fast path of the owning cache: the next free slot's address, or 0 when
  // the span is exhausted. No atomics, no lock. Cost: a ctz, two stores; a
  // bitmap word load every 64 slots.
  uintptr_t take_free_slot() {
    while (free_cache == 0) [[unlikely]] {
      if (cursor_word >= bitmap_words()) return 0;
      free_cache = ~alloc_bits[cursor_word].load(std::memory_order_relaxed) & valid_mask(cursor_word);
      ++cursor_word;
    }
    const unsigned bit = static_cast<unsigned>(std::countr_zero(free_cache));
    free_cache &= free_cache - 1;
    const size_t word = cursor_word - 1;
    alloc_bits[word].store(alloc_bits[word].load(std::memory_order_relaxed) | (uint64_t{1} << bit),
                           std::memory_order_relaxed);
    return slot_address(word * 64 + bit);
  }

  size_t allocated_slots() const;
  // Clears every free slot, one memset per run of free slots.
  void zero_free_slots();
  size_t free_slots() const { return slot_count - allocated_slots(); }

  // Prepares a free span to serve span class `span_class`: a size class, or
  // a typed class from typed_classes().
  void init_small(uint16_t span_class);
  // Resets the cursor so the next take_free_slot() rescans the bitmap.
  void rewind_cursor() {
    cursor_word = 0;
    free_cache = 0;
  }

  struct SweepResult {
    size_t live_slots;
    size_t freed_slots;
  };
  // Runs destructors of dead objects (slot allocated, not marked), poisons
  // them in checked builds, then alloc := mark, mark := 0. Small spans only.
  SweepResult sweep(bool poison);
  // Runs the destructor of every allocated object (the heap's teardown:
  // what no sweep reclaimed still owns its resources).
  void destroy_all();
};

}  // namespace tricolor::gc
