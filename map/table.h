// table.h — one bucket array of a managed map: 2^B buckets of 8 slots.
//
// Owns: Bucket<K, V> (8 tophash bytes, 8 keys, 8 values, an overflow link),
// the Table<K, V> managed object that holds 2^B of them inline, their
// overflow buckets, and — while the table is the old half of a growth — the
// per-bucket evacuation states and progress counters.
// Invariants:
//  - all-zero memory is an empty bucket (tophash kEmptyRest, zero slots,
//    no overflow): a table comes from fresh, already-zero memory and is never
//    cleared by the mutator;
//  - in a chain, a kEmptyRest slot is followed only by kEmptyRest slots, so
//    lookups stop at the first one;
//  - a bucket whose state is kDone was fully copied into the new table, and
//    the copy is visible to whoever reads the state with acquire; old buckets
//    are never written once their table is old (readers see no half-move);
//  - overflow buckets come first from a reserve inside the table (2^(B-4)
//    of them for B >= 4, as Go preallocates: the table's fresh memory, so a
//    growing map takes no allocator call and no extra page faults), then
//    from chunks the table owns (unmanaged memory: a background worker
//    evacuating into this table may need one, and only mutators can
//    allocate managed memory); the table frees the chunks when swept;
//  - the trace visits only slots whose traits hold pointers, chain by chain,
//    in chunks of slots (ChunkTraceable), so marking a 300 MB table is many
//    bounded units; a table with no pointer slots is never scanned.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

#include "../gc/errors.h"
#include "../gc/unmanaged_memory.h"
#include "../gc/visitor.h"
#include "map_stats.h"
#include "slot_traits.h"

namespace tricolor::map_detail {

inline constexpr size_t kBucketSlots = 8;
// Reserved tophash values. Evacuation state is not kept in tophash (as Go
// does) but per bucket in Table::state(), because old buckets stay untouched.
inline constexpr uint8_t kEmptyRest = 0;  // empty, and so is every later slot of the chain
inline constexpr uint8_t kEmptyOne = 1;   // empty
inline constexpr uint8_t kMinTopHash = 2;

inline uint8_t tophash_of(uint64_t hash) {
  const auto top = static_cast<uint8_t>(hash >> 56);
  return top < kMinTopHash ? static_cast<uint8_t>(top + kMinTopHash) : top;
}
inline bool is_empty(uint8_t top) { return top < kMinTopHash; }

// Evacuation state of an old bucket.
enum : uint8_t { kUntouched = 0, kClaimed = 1, kDone = 2 };

template <class K, class V>
struct Bucket {
  uint8_t tophash[kBucketSlots];
  K keys[kBucketSlots];
  V values[kBucketSlots];
  std::atomic<Bucket*> overflow;
};

template <class K, class V>
void trace_slot(const Bucket<K, V>& bucket, size_t i, Visitor& visitor) {
  if constexpr (SlotTraits<K>::kWeak) {
    const bool keyless = load_slot(bucket.keys[i]).get() == nullptr;
    if constexpr (kSlotHasPointers<V>) {
      // A keyless pair holds no value; one that does goes on to the verifier.
      if (keyless && pointer_in(load_slot(bucket.values[i])) == nullptr) return;
      visitor.visit_ephemeron(as_atomic_pointer(bucket.keys[i]), as_atomic_pointer(bucket.values[i]));
    } else if (!keyless) {
      visitor.visit_weak_slot(as_atomic_pointer(bucket.keys[i]));
    }
  } else {
    if constexpr (kSlotHasPointers<K>) visitor.visit_object(pointer_in(load_slot(bucket.keys[i])));
    if constexpr (kSlotHasPointers<V>) visitor.visit_object(pointer_in(load_slot(bucket.values[i])));
  }
}

template <class K, class V>
void trace_overflow_chain(const Bucket<K, V>& bucket, Visitor& visitor) {
  for (const Bucket<K, V>* b = bucket.overflow.load(std::memory_order_acquire); b != nullptr;
       b = b->overflow.load(std::memory_order_acquire))
    for (size_t i = 0; i < kBucketSlots; ++i) trace_slot(*b, i, visitor);
}

template <class K, class V>
class Table {
 public:
  using BucketT = Bucket<K, V>;
  static_assert(!SlotTraits<K>::kWeak || !kSlotHasPointers<V> || std::is_pointer_v<V>,
                "a map with Weak<T> keys takes values that are managed pointers (an ephemeron) or hold none");
  static_assert(!SlotTraits<V>::kWeak, "Weak<T> is for keys; a weak value would leave a key without one");
  static constexpr bool kHasNoPointers = !kSlotHasPointers<K> && !kSlotHasPointers<V>;

  // Overflow buckets reserved inside a table of 2^log2_buckets buckets.
  static size_t reserved_overflow(uint8_t log2_buckets) {
    return log2_buckets >= 4 ? size_t{1} << (log2_buckets - 4) : 0;
  }
  // Bytes after the Table object: the buckets, the reserved overflow
  // buckets, then one state byte per bucket.
  static size_t extra_bytes(uint8_t log2_buckets) {
    return sizeof(BucketT) * ((size_t{1} << log2_buckets) + reserved_overflow(log2_buckets)) +
           (size_t{1} << log2_buckets);
  }

  explicit Table(uint8_t log2_buckets)
      : log2_buckets_(log2_buckets),
        chunk_next_(bucket(bucket_count())),
        chunk_left_(reserved_overflow(log2_buckets)) {}
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  ~Table() {
    for (void* chunk : overflow_chunks_) gc::unmanaged_free(chunk);
  }

  uint8_t log2_buckets() const { return log2_buckets_; }
  size_t bucket_count() const { return size_t{1} << log2_buckets_; }
  size_t mask() const { return bucket_count() - 1; }
  BucketT* bucket(size_t index) const {
    return reinterpret_cast<BucketT*>(const_cast<Table*>(this) + 1) + index;
  }
  std::atomic<uint8_t>& state(size_t index) const {
    return reinterpret_cast<std::atomic<uint8_t>*>(bucket(bucket_count() + reserved_overflow(log2_buckets_)))[index];
  }

  // A zeroed overflow bucket (the reserve first); any thread. Throws
  // HeapExhausted if memory is refused.
  BucketT* new_overflow() {
    std::lock_guard lock(overflow_mutex_);
    if (chunk_left_ == 0) {
      const size_t buckets = std::clamp<size_t>(bucket_count() / 16, 1, 64);
      void* chunk = gc::unmanaged_allocate_zeroed(buckets * sizeof(BucketT), alignof(BucketT));
      if (chunk == nullptr) throw HeapExhausted("tricolor: out of memory for a map's overflow buckets");
      overflow_chunks_.push_back(chunk);
      chunk_next_ = static_cast<BucketT*>(chunk);
      chunk_left_ = buckets;
    }
    --chunk_left_;
    overflow_count_.fetch_add(1, std::memory_order_relaxed);
    count(counters().overflow_buckets);
    return chunk_next_++;
  }
  size_t overflow_count() const { return overflow_count_.load(std::memory_order_relaxed); }

  // Set by a PrefaultWork once this table's pages are resident (map.h: a
  // big growth starts only then, or when it cannot wait any longer).
  std::atomic<bool> prefaulted{false};

  // Progress of the evacuation out of this table while it is the old one.
  std::atomic<size_t> evacuated{0};      // buckets in state kDone
  std::atomic<size_t> cursor{0};         // next bucket a sweep for untouched ones looks at
  std::atomic<size_t> dead_dropped{0};   // entries with dead weak keys not copied
  std::atomic<bool> abandoned{false};    // cleared mid-growth: stop evacuating

  // Tracing (unused when kHasNoPointers): chunk slots are the main buckets'
  // slots; the overflow chain of a bucket goes with its first slot.
  size_t trace_slot_count() const { return bucket_count() * kBucketSlots; }
  void trace_slots(Visitor& visitor, size_t first, size_t end) const {
    for (size_t slot = first; slot < end; ++slot) {
      const BucketT& b = *bucket(slot / kBucketSlots);
      const size_t i = slot % kBucketSlots;
      trace_slot(b, i, visitor);
      if (i == 0) trace_overflow_chain(b, visitor);
    }
  }
  void trace(Visitor& visitor) const { trace_slots(visitor, 0, trace_slot_count()); }

 private:
  const uint8_t log2_buckets_;
  std::mutex overflow_mutex_;
  std::vector<void*> overflow_chunks_;
  BucketT* chunk_next_ = nullptr;
  size_t chunk_left_ = 0;
  std::atomic<size_t> overflow_count_{0};
};

}  // namespace tricolor::map_detail
