// growth.h — moving entries from a growing map's old table to its new one.
//
// Owns: Evacuator (evacuate one old bucket chain, claim the next untouched
// one, wait for one a worker holds) and EvacuationWork (the deferred-work
// item through which the collector's background workers finish a growth in
// bounded slices). Used by Map (map.h) on the mutator side.
// Invariants (the map/worker protocol, ../shared/DESIGN.md §5):
//  - an old bucket goes untouched → claimed → done, by one CAS to claim; only
//    its claimer writes the new buckets it feeds (new index ≡ old index mod
//    old size), and nobody else touches those new buckets until it is done;
//  - evacuation reads old buckets and never writes them, so a reader of an
//    old bucket that is not done sees every entry whole;
//  - every managed pointer copied into the new table is shaded (a barriered
//    store, batched); weak keys are read through the weak-read barrier, and
//    entries whose key died are dropped (counted in dead_dropped);
//  - a slice of work is one bucket chain at a time: bounded, whoever runs it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "../gc/barrier.h"
#include "../gc/deferred_work.h"
#include "../gc/mutator.h"
#include "../gc/visitor.h"
#include "map_stats.h"
#include "table.h"

namespace tricolor::map_detail {

template <class K>
K read_key(const K& slot) {
  K key = load_slot(slot);
  if constexpr (SlotTraits<K>::kWeak) {
    using Target = std::remove_pointer_t<decltype(key.get())>;
    return K(static_cast<Target*>(const_cast<void*>(weak_read(key.get()))));
  } else {
    return key;
  }
}

template <class K>
bool is_dead_key(const K& key) {
  if constexpr (SlotTraits<K>::kWeak) return key.get() == nullptr;
  else return false;
}

enum class Evacuee : uint8_t { kMutator, kWorker };

// Roots the managed pointers of a key and a value that a write is about to
// store while the write may reach a safepoint (a growth's allocation, a
// SyncMap shard's lock): until stored they are only C++ arguments, which no
// collector sees.
class ArgumentRoots {
 public:
  template <class K, class V>
  ArgumentRoots(Mutator& mutator, const K& key, const V& value) : mutator_(mutator) {
    push(pointer_in(key));
    push(pointer_in(value));
  }
  ~ArgumentRoots() {
    while (pushed_-- > 0) mutator_.pop_constructing();
  }
  ArgumentRoots(const ArgumentRoots&) = delete;
  ArgumentRoots& operator=(const ArgumentRoots&) = delete;

 private:
  void push(const void* object) {
    if (object == nullptr) return;
    mutator_.push_constructing(object);
    ++pushed_;
  }
  Mutator& mutator_;
  int pushed_ = 0;
};

template <class K, class V, class Hash>
class Evacuator {
 public:
  using TableT = Table<K, V>;
  using BucketT = Bucket<K, V>;

  Evacuator(TableT* old_table, TableT* new_table, uint64_t seed)
      : old_(old_table), new_(new_table), seed_(seed) {}

  // The mutator's path to old bucket `index`: evacuate it if untouched; if a
  // worker holds it, wait for that one chain — answering safepoints while it
  // waits (the worker may be descheduled; the map's tables are reachable
  // from the map, which the caller keeps rooted).
  void evacuate_or_wait(Mutator& mutator, size_t index) {
    std::atomic<uint8_t>& state = old_->state(index);
    uint8_t seen = state.load(std::memory_order_acquire);
    if (seen == kDone) return;
    if (seen == kUntouched && state.compare_exchange_strong(seen, kClaimed, std::memory_order_acq_rel)) {
      evacuate(index, Evacuee::kMutator);
      return;
    }
    for (unsigned spins = 0; state.load(std::memory_order_acquire) != kDone; ++spins) {
      mutator.safepoint();
      if (spins >= 64) std::this_thread::yield();
    }
  }

  // Claims the next untouched bucket from the shared cursor and evacuates it;
  // false if none was found within a bounded look-ahead.
  bool evacuate_next(Evacuee who) {
    const size_t buckets = old_->bucket_count();
    for (size_t looked = 0; looked < 64; ++looked) {
      size_t index = old_->cursor.load(std::memory_order_relaxed);
      if (index >= buckets) return false;
      std::atomic<uint8_t>& state = old_->state(index);
      uint8_t seen = state.load(std::memory_order_acquire);
      const bool claimed =
          seen == kUntouched && state.compare_exchange_strong(seen, kClaimed, std::memory_order_acq_rel);
      size_t expected = index;  // (a failed CAS would overwrite its argument)
      old_->cursor.compare_exchange_strong(expected, index + 1, std::memory_order_relaxed);
      if (claimed) {
        evacuate(index, who);
        return true;
      }
    }
    return false;
  }

  bool finished() const { return old_->evacuated.load(std::memory_order_acquire) == old_->bucket_count(); }

 private:
  // Where the next entry for new bucket `index` goes: the first empty slot of
  // its chain (entries are appended in order, so it is the first kEmptyRest).
  struct Destination {
    size_t index = SIZE_MAX;
    BucketT* bucket = nullptr;
    size_t slot = 0;
  };

  Destination& destination(size_t index) {
    // Doubling feeds two new buckets from one old one: x (index < old size) and y.
    Destination& d = destinations_[(index / old_->bucket_count()) & 1];
    if (d.index != index) {
      d.index = index;
      d.bucket = new_->bucket(index);
      d.slot = 0;
      for (;;) {
        while (d.slot < kBucketSlots && d.bucket->tophash[d.slot] != kEmptyRest) ++d.slot;
        BucketT* next = d.bucket->overflow.load(std::memory_order_relaxed);
        if (d.slot < kBucketSlots || next == nullptr) break;
        d.bucket = next;
        d.slot = 0;
      }
    }
    if (d.slot == kBucketSlots) {
      BucketT* fresh = new_->new_overflow();
      d.bucket->overflow.store(fresh, std::memory_order_release);  // markers walk chains
      d.bucket = fresh;
      d.slot = 0;
    }
    return d;
  }

  void evacuate(size_t index, Evacuee who) {
    destinations_[0] = destinations_[1] = Destination{};
    const bool copy = !old_->abandoned.load(std::memory_order_relaxed);
    const void* shaded[2 * kBucketSlots];
    for (const BucketT* b = old_->bucket(index); copy && b != nullptr;
         b = b->overflow.load(std::memory_order_acquire)) {
      size_t pending = 0;
      for (size_t i = 0; i < kBucketSlots; ++i) {
        const uint8_t top = b->tophash[i];
        if (is_empty(top)) continue;
        const K key = read_key(b->keys[i]);
        if (is_dead_key(key)) {
          old_->dead_dropped.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        const V value = load_slot(b->values[i]);
        Destination& d = destination(Hash{}(key, seed_) & new_->mask());
        store_slot(d.bucket->keys[d.slot], key);
        store_slot(d.bucket->values[d.slot], value);
        d.bucket->tophash[d.slot] = top;
        ++d.slot;
        if (const void* p = pointer_in(key)) shaded[pending++] = p;
        if (const void* p = pointer_in(value)) shaded[pending++] = p;
      }
      write_barrier_batch(shaded, pending);
    }
    old_->state(index).store(kDone, std::memory_order_release);
    old_->evacuated.fetch_add(1, std::memory_order_acq_rel);
    MapCounters& c = counters();
    count(who == Evacuee::kWorker ? c.evacuated_by_workers : c.evacuated_by_mutators);
    c.evacuation_backlog.fetch_sub(1, std::memory_order_relaxed);
  }

  TableT* old_;
  TableT* new_;
  uint64_t seed_;
  Destination destinations_[2];
};

// The collector's background workers finish a growth through this item: each
// run() evacuates bucket chains until its time budget is spent. Queued, it
// keeps both tables alive (trace); it is done when no untouched bucket is
// left (a chain a mutator holds is finished by that mutator).
template <class K, class V, class Hash>
class EvacuationWork final : public gc::DeferredWork {
 public:
  using TableT = Table<K, V>;
  EvacuationWork(TableT* old_table, TableT* new_table, uint64_t seed)
      : old_(old_table), new_(new_table), evacuator_(old_table, new_table, seed) {}

  bool run(uint64_t budget_ns) override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(budget_ns);
    for (unsigned chains = 1;; ++chains) {
      if (!evacuator_.evacuate_next(Evacuee::kWorker)) {
        // Nothing untouched within the look-ahead: done if the cursor is at
        // the end, else the next slice looks further.
        return old_->cursor.load(std::memory_order_relaxed) >= old_->bucket_count();
      }
      if (chains % 8 == 0 && std::chrono::steady_clock::now() >= deadline) return false;
    }
  }
  void trace(Visitor& visitor) const override {
    visitor.visit_object(old_);
    visitor.visit_object(new_);
  }

 private:
  TableT* old_;
  TableT* new_;
  Evacuator<K, V, Hash> evacuator_;
};

}  // namespace tricolor::map_detail
