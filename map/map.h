// map.h — Map<K, V, Hash, Eq>: the managed hash map (Go's classic design,
// with growth that never stalls a write or a pause).
//
// Owns: the map object (its two table pointers, count, seed and growth
// progress), the write paths (insert_or_assign, erase, clear, reserve), the
// read paths (find, get, contains) and the preemptible iterator.
//
// Layout: 2^B buckets of 8 slots (table.h); a write that makes the average
// load pass 6.5 per bucket starts a doubling growth, one that finds overflow
// buckets piled up (as many as main buckets, after churn) starts a same-size
// regrow.
//
// Growth, bounded per operation: a write to a growing map first evacuates the
// old bucket its key hashes to (or waits for the worker holding it: one
// chain), then at most `extra_buckets_per_write` more. In `deferred` mode
// (the default) it takes those extra buckets only when the growth is behind
// the pace that finishes it in time (one old bucket per write: 2^B writes,
// while the next doubling needs at least 6.5 * 2^B inserts); the collector's
// background workers do the rest through an EvacuationWork item (growth.h).
// In `inline` mode (Go 1.19's behaviour, for comparison) the writer always
// does two buckets and nothing is deferred. A trigger met while a growth is
// still running does not start another: writes go on and finish it.
// The new table comes from fresh, already-zero memory (no memset on the
// writer), is allocated black during a mark, and its assist debt is paid in
// bounded batches, one every 8 writes (Collector::pay_deferred_debt). In
// deferred mode a big new table (256 KiB and up) is made resident by the
// collector's provisioning thread before its growth starts (new_table_ready),
// so that no write takes the page faults of its first touch.
//
// Complexity: find/insert/erase O(1) expected, plus at most one bucket chain
// of evacuation (and one bounded assist slice); clear() O(1) (the tables
// become garbage); reserve(n) O(1) on the writer (a growth to the size,
// finished as above); iteration O(buckets + entries), polling the safepoint
// every kIterationPollBuckets buckets.
//
// Invalidation: find() returns a pointer into a bucket, valid until the next
// write to this map or the next safepoint. Iterators stay valid across any
// writes (Go's rules: each entry present for the whole loop is visited
// exactly once, with its value at the time it is visited; entries inserted
// during the loop may or may not be visited; erased ones are not visited
// after their erasure; clear() ends the loop).
//
// Threads: any number of readers, or one writer (who may also read and
// iterate). A second writer, or a write during another thread's iteration,
// is detected and fatal ("concurrent map writes"): checked builds detect it
// with an atomic read-modify-write, release builds with one plain flag check
// per write. Maps that many threads write: SyncMap (sync_map.h).
//
// Keys and values are trivially copyable slot types (slot_traits.h). Hash is
// a stateless functor `uint64_t(const K&, uint64_t seed)`; Eq compares a
// stored key with a probe. Both may accept other probe types (a string_view
// for a managed string key) for heterogeneous lookup.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "../gc/barrier.h"
#include "../gc/collector.h"
#include "../gc/errors.h"
#include "../gc/prefault.h"
#include "../gc/local.h"
#include "../gc/make.h"
#include "../gc/member.h"
#include "../gc/mutator.h"
#include "growth.h"
#include "hash.h"
#include "map_options.h"
#include "map_stats.h"
#include "slot_traits.h"
#include "table.h"

namespace tricolor {

template <class K, class V, class Hash = MapHash<K>, class Eq = std::equal_to<>>
  requires map_detail::SlotType<K> && map_detail::SlotType<V>
class Map {
 public:
  using TableT = map_detail::Table<K, V>;
  using BucketT = map_detail::Bucket<K, V>;
  static constexpr size_t kIterationPollBuckets = 8;

  explicit Map(MapOptions options = {}) : options_(map_detail::checked(options)), seed_(random_map_seed()) {}
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;
  ~Map() {
    // A map that dies mid-growth in inline mode leaves no worker to finish:
    // its share of the backlog goes with it.
    if (growing_ && options_.growth == MapGrowth::kInline)
      map_detail::counters().evacuation_backlog.fetch_sub(static_cast<int64_t>(growth_left_), std::memory_order_relaxed);
  }

  void trace(Visitor& visitor) const {
    visitor.visit(buckets_);
    visitor.visit(oldbuckets_);
    visitor.visit(nextbuckets_);
  }

  // ---------------------------------------------------------------- reads

  // The value stored for `key`, or null. See "Invalidation" above.
  template <class Q>
  const V* find(const Q& key) const {
    const Found found = locate(key, Hash{}(key, seed_));
    return found.bucket != nullptr ? &found.bucket->values[found.slot] : nullptr;
  }
  template <class Q>
  std::optional<V> get(const Q& key) const {
    const Found found = locate(key, Hash{}(key, seed_));
    if (found.bucket == nullptr) return std::nullopt;
    return map_detail::load_slot(found.bucket->values[found.slot]);
  }
  template <class Q>
  bool contains(const Q& key) const {
    return locate(key, Hash{}(key, seed_)).bucket != nullptr;
  }
  // Entries. With Weak<T> keys, entries whose key died are counted until a
  // write or a growth meets them.
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  bool growing() const { return oldbuckets_.get() != nullptr; }
  // log2 of the bucket count (0 before the first insert).
  uint8_t log2_buckets() const { return buckets_ ? buckets_->log2_buckets() : 0; }
  const MapOptions& options() const { return options_; }

  // ---------------------------------------------------------------- writes

  // Inserts or overwrites; true if the key was new. May allocate a new table
  // and so reach a safepoint: the map must be reachable from a root (the
  // key's and value's managed pointers are rooted by the call).
  bool insert_or_assign(Mutator& mutator, const K& key, const V& value) {
    WriteGuard guard(*this, "insert_or_assign");
    map_detail::ArgumentRoots roots(mutator, key, value);
    const uint64_t hash = Hash{}(key, seed_);
    if (!buckets_) buckets_ = new_table(mutator, 0);
    const uint8_t top = map_detail::tophash_of(hash);
    for (;;) {
      settle_growth(mutator, hash);
      TableT* table = buckets_.get();
      BucketT* free_bucket = nullptr;
      size_t free_slot = 0;
      BucketT* last = nullptr;
      for (BucketT* b = table->bucket(hash & table->mask()); b != nullptr; b = b->overflow.load(std::memory_order_relaxed)) {
        last = b;
        for (size_t i = 0; i < map_detail::kBucketSlots; ++i) {
          const uint8_t seen = b->tophash[i];
          if (seen != top) {
            if (map_detail::is_empty(seen) && free_bucket == nullptr) {
              free_bucket = b;
              free_slot = i;
            }
            if (seen == map_detail::kEmptyRest) goto not_found;
            continue;
          }
          const K stored = map_detail::read_key(b->keys[i]);
          if (map_detail::is_dead_key(stored)) {
            forget_dead_entry(b, i);
            if (free_bucket == nullptr) {
              free_bucket = b;
              free_slot = i;
            }
            continue;
          }
          if (Eq{}(stored, key)) {
            store_value(b->values[i], value);
            pay_growth_debt(mutator);
            return false;
          }
        }
      }
    not_found:
      if (!growing() && (over_load_factor(count_ + 1, table->log2_buckets()) || too_many_overflow(*table))) {
        const uint8_t log2 = over_load_factor(count_ + 1, table->log2_buckets()) ? table->log2_buckets() + 1
                                                                                  : table->log2_buckets();
        if (new_table_ready(mutator, log2)) {
          start_growth(mutator, log2);
          continue;  // the key's bucket moved: look again in the new table
        }
      } else if (!growing() && near_load_factor(count_ + 1, table->log2_buckets())) {
        prepare_next_table(mutator, table->log2_buckets() + 1);
      }
      if (free_bucket == nullptr) {
        free_bucket = table->new_overflow();
        free_slot = 0;
        last->overflow.store(free_bucket, std::memory_order_release);  // markers walk chains
      }
      store_key(free_bucket->keys[free_slot], key);
      store_value(free_bucket->values[free_slot], value);
      free_bucket->tophash[free_slot] = top;
      ++count_;
      pay_growth_debt(mutator);
      return true;
    }
  }

  // Removes `key`; true if it was present.
  template <class Q>
  bool erase(Mutator& mutator, const Q& key) {
    WriteGuard guard(*this, "erase");
    if (!buckets_) return false;
    const uint64_t hash = Hash{}(key, seed_);
    settle_growth(mutator, hash);
    TableT* table = buckets_.get();
    const Found found = search_chain(table->bucket(hash & table->mask()), key, map_detail::tophash_of(hash));
    pay_growth_debt(mutator);
    if (found.bucket == nullptr) return false;
    remove_entry(table->bucket(hash & table->mask()), found.bucket, found.slot);
    --count_;
    return true;
  }

  // Removes every entry in O(1): the tables become garbage (a growth in
  // progress is abandoned). Running iterators end.
  void clear(Mutator& mutator) {
    (void)mutator;
    WriteGuard guard(*this, "clear");
    if (TableT* old = oldbuckets_.get()) {
      old->abandoned.store(true, std::memory_order_relaxed);
      end_growth_accounting();
    }
    oldbuckets_ = nullptr;
    buckets_ = nullptr;
    nextbuckets_ = nullptr;
    count_ = 0;
    ++clear_sequence_;
  }

  // Room for `entries` without a doubling: an empty map gets a table of that
  // size at once (fresh memory: O(1) on the writer); a smaller non-empty one
  // starts a growth straight to that size, finished like any growth.
  void reserve(Mutator& mutator, size_t entries) {
    WriteGuard guard(*this, "reserve");
    uint8_t log2 = 0;
    while (over_load_factor(entries, log2)) ++log2;
    if (!buckets_ || (count_ == 0 && !growing())) {
      if (!buckets_ || log2 > buckets_->log2_buckets()) buckets_ = new_table(mutator, log2);
      return;
    }
    settle_growth(mutator, 0);
    if (!growing() && log2 > buckets_->log2_buckets()) start_growth(mutator, log2);
  }

  // ---------------------------------------------------------------- iteration

  struct Entry {
    K key;
    V value;
  };
  class Iterator;
  class Entries;
  // `for (auto [key, value] : map->entries(mutator))`. The range roots the
  // map and the tables it reads (it holds Local handles: create it in a C++
  // scope of the mutator's thread), and polls the mutator's safepoint every
  // few buckets.
  Entries entries(Mutator& mutator) { return Entries(mutator, this); }

 private:
  friend class Iterator;
  static constexpr uint32_t kWriting = 1;

  struct Found {
    BucketT* bucket = nullptr;
    size_t slot = 0;
  };

  // Write-misuse detection (see "Threads" above).
  class WriteGuard {
   public:
    WriteGuard(const Map& map, const char* operation) : map_(map), operation_(operation) {
      if constexpr (kChecked) {
        if (map_.flags_.fetch_or(kWriting, std::memory_order_acquire) & kWriting) concurrent_writes();
        map_.writer_operation_.store(operation, std::memory_order_relaxed);
      } else {
        const uint32_t flags = map_.flags_.load(std::memory_order_relaxed);
        if (flags & kWriting) concurrent_writes();
        map_.flags_.store(flags | kWriting, std::memory_order_relaxed);
      }
    }
    ~WriteGuard() {
      const uint32_t flags = map_.flags_.load(std::memory_order_relaxed);
      if (!(flags & kWriting)) concurrent_writes();
      map_.flags_.store(flags & ~kWriting, std::memory_order_release);
    }
    WriteGuard(const WriteGuard&) = delete;
    WriteGuard& operator=(const WriteGuard&) = delete;

   private:
    [[noreturn]] void concurrent_writes() const {
      const char* other = map_.writer_operation_.load(std::memory_order_relaxed);
      map_detail::concurrent_map_misuse("concurrent map writes", operation_, other);
    }
    const Map& map_;
    const char* operation_;
  };

  static bool over_load_factor(size_t entries, uint8_t log2_buckets) {
    // More than 6.5 entries per bucket on average (and more than one bucket's worth).
    return entries > map_detail::kBucketSlots && entries * 2 > 13 * (size_t{1} << log2_buckets);
  }
  // More than 6: time to prepare the next table (new_table_ready).
  static bool near_load_factor(size_t entries, uint8_t log2_buckets) {
    return entries > map_detail::kBucketSlots && entries > 6 * (size_t{1} << log2_buckets);
  }
  // About as many overflow buckets as main buckets (Go's rule; Go counts
  // approximately past 2^15, we count exactly). At a load of 6.5 a fifth of
  // the buckets overflow, so a lower bar would regrow healthy big maps.
  static bool too_many_overflow(const TableT& table) { return table.overflow_count() >= table.bucket_count(); }

  TableT* new_table(Mutator& mutator, uint8_t log2_buckets) {
    return make_with_deferred_assist<TableT>(mutator, AdditionalBytes{TableT::extra_bytes(log2_buckets)}, log2_buckets);
  }

  template <class Q>
  Found locate(const Q& key, uint64_t hash) const {
    const TableT* table = buckets_.get();
    if (table == nullptr) return {};
    if (const TableT* old = oldbuckets_.get()) {
      const size_t old_index = hash & old->mask();
      if (old->state(old_index).load(std::memory_order_acquire) != map_detail::kDone)
        return search_chain(old->bucket(old_index), key, map_detail::tophash_of(hash));
    }
    return search_chain(table->bucket(hash & table->mask()), key, map_detail::tophash_of(hash));
  }

  template <class Q>
  static Found search_chain(BucketT* bucket, const Q& key, uint8_t top) {
    for (BucketT* b = bucket; b != nullptr; b = b->overflow.load(std::memory_order_relaxed)) {
      for (size_t i = 0; i < map_detail::kBucketSlots; ++i) {
        const uint8_t seen = b->tophash[i];
        if (seen != top) {
          if (seen == map_detail::kEmptyRest) return {};
          continue;
        }
        const K stored = map_detail::read_key(b->keys[i]);
        if (!map_detail::is_dead_key(stored) && Eq{}(stored, key)) return {b, i};
      }
    }
    return {};
  }

  // Barriered slot stores: a strong slot shades the old and the new target,
  // a weak key only the new one (so that a table born black keeps no slot to
  // an object that dies this cycle).
  static void store_key(K& slot, const K& key) {
    if constexpr (SlotTraits<K>::kWeak) weak_store_barrier(key.get());
    else if constexpr (map_detail::kSlotHasPointers<K>)
      write_barrier(map_detail::pointer_in(map_detail::load_slot(slot)), map_detail::pointer_in(key));
    map_detail::store_slot(slot, key);
  }
  static void store_value(V& slot, const V& value) {
    if constexpr (map_detail::kSlotHasPointers<V>)
      write_barrier(map_detail::pointer_in(map_detail::load_slot(slot)), map_detail::pointer_in(value));
    map_detail::store_slot(slot, value);
  }

  // Empties slot `slot` of `bucket` (in the chain starting at `head`) and
  // keeps the kEmptyRest invariant: trailing empty slots become kEmptyRest.
  void remove_entry(BucketT* head, BucketT* bucket, size_t slot) {
    store_key(bucket->keys[slot], K{});
    store_value(bucket->values[slot], V{});
    bucket->tophash[slot] = map_detail::kEmptyOne;
    const bool last_in_bucket = slot == map_detail::kBucketSlots - 1;
    BucketT* next = bucket->overflow.load(std::memory_order_relaxed);
    if (last_in_bucket ? (next != nullptr && next->tophash[0] != map_detail::kEmptyRest)
                       : bucket->tophash[slot + 1] != map_detail::kEmptyRest)
      return;
    // Walk back over empty slots, turning them into kEmptyRest.
    BucketT* b = bucket;
    size_t i = slot;
    for (;;) {
      b->tophash[i] = map_detail::kEmptyRest;
      if (i == 0) {
        if (b == head) break;
        BucketT* previous = head;
        while (previous->overflow.load(std::memory_order_relaxed) != b) previous = previous->overflow.load(std::memory_order_relaxed);
        b = previous;
        i = map_detail::kBucketSlots - 1;
      } else {
        --i;
      }
      if (b->tophash[i] != map_detail::kEmptyOne) break;
    }
  }

  // A Weak<T> key the collector cleared: the slot is free again.
  void forget_dead_entry(BucketT* bucket, size_t slot) {
    store_value(bucket->values[slot], V{});
    bucket->tophash[slot] = map_detail::kEmptyOne;
    --count_;
  }

  // ---------------------------------------------------------------- growth

  // Whether a growth to 2^log2_buckets may start now. In deferred mode a big
  // new table is allocated ahead (at a load of 6, or when a same-size regrow
  // is due) and made resident by the provisioning thread
  // (gc/provisioner.h): a growth's writes touch the new table all over at
  // once, and each first touch of a page is a fault on the writer. Until the
  // table is resident, writes go on into the current one (its load passes
  // 6.5 a little), for at most one insert per bucket after the request.
  bool new_table_ready(Mutator& mutator, uint8_t log2_buckets) {
    if (!prepare_next_table(mutator, log2_buckets)) return true;
    if (nextbuckets_->prefaulted.load(std::memory_order_acquire)) {
      map_detail::count(map_detail::counters().tables_prefaulted);
      return true;
    }
    if (++inserts_waiting_ <= buckets_->bucket_count()) return false;
    map_detail::count(map_detail::counters().tables_not_prefaulted);
    return true;
  }
  // Allocates the next table and queues its prefault, unless it is queued
  // already; false if a table of this size needs none (inline mode: Go's
  // behaviour; small: its allocation touched it, by memset).
  bool prepare_next_table(Mutator& mutator, uint8_t log2_buckets) {
    const size_t bytes = sizeof(TableT) + TableT::extra_bytes(log2_buckets);
    if (options_.growth != MapGrowth::kDeferred || bytes < gc::kUntouchedLargeObjectBytes) return false;
    if (nextbuckets_ && nextbuckets_->log2_buckets() == log2_buckets) return true;
    TableT* next = new_table(mutator, log2_buckets);  // may reach a safepoint
    nextbuckets_ = next;
    inserts_waiting_ = 0;
    mutator.collector().prefault(std::make_shared<gc::PrefaultWork>(next, bytes, next->prefaulted));
    return true;
  }

  void start_growth(Mutator& mutator, uint8_t log2_buckets) {
    TableT* old = buckets_.get();
    const bool same_size = log2_buckets == old->log2_buckets();
    TableT* fresh = nextbuckets_ && nextbuckets_->log2_buckets() == log2_buckets
                        ? nextbuckets_.get()
                        : new_table(mutator, log2_buckets);  // may reach a safepoint
    nextbuckets_ = nullptr;
    oldbuckets_ = old;
    buckets_ = fresh;
    growing_ = true;
    writes_in_growth_ = 0;
    growth_left_ = old->bucket_count();
    map_detail::MapCounters& c = map_detail::counters();
    map_detail::count(same_size ? c.same_size_growths : c.growths);
    c.evacuation_backlog.fetch_add(static_cast<int64_t>(old->bucket_count()), std::memory_order_relaxed);
    if (options_.growth == MapGrowth::kDeferred)
      mutator.collector().defer(std::make_shared<map_detail::EvacuationWork<K, V, Hash>>(old, fresh, seed_));
  }

  // Before a write: finish a growth the workers completed, else do this
  // write's bounded share of it (the key's own old bucket first).
  void settle_growth(Mutator& mutator, uint64_t hash) {
    TableT* old = oldbuckets_.get();
    if (old == nullptr) return;
    map_detail::Evacuator<K, V, Hash> evacuator(old, buckets_.get(), seed_);
    if (!evacuator.finished()) {
      evacuator.evacuate_or_wait(mutator, hash & old->mask());
      ++writes_in_growth_;
      const bool always = options_.growth == MapGrowth::kInline;
      const uint32_t extra = always ? 1 : options_.extra_buckets_per_write;
      for (uint32_t k = 0; k < extra; ++k) {
        // Deferred: on pace (one old bucket per write), the workers do the rest.
        if (!always && old->evacuated.load(std::memory_order_relaxed) >= writes_in_growth_) break;
        if (!evacuator.evacuate_next(map_detail::Evacuee::kMutator)) break;
      }
      growth_left_ = old->bucket_count() - old->evacuated.load(std::memory_order_relaxed);
      if (!evacuator.finished()) return;
    }
    count_ -= old->dead_dropped.load(std::memory_order_relaxed);
    oldbuckets_ = nullptr;  // a barriered deletion: shades the old table
    growing_ = false;
    growth_left_ = 0;
  }

  // clear() mid-growth: in inline mode nobody else will count the rest down.
  void end_growth_accounting() {
    if (options_.growth == MapGrowth::kInline)
      map_detail::counters().evacuation_backlog.fetch_sub(static_cast<int64_t>(growth_left_), std::memory_order_relaxed);
    growing_ = false;
    growth_left_ = 0;
  }

  void pay_growth_debt(Mutator& mutator) {
    if (mutator.deferred_debt_objects() >= gc::Collector::kMinAssistObjects) [[unlikely]]
      mutator.collector().pay_deferred_debt(mutator);
  }

  Member<TableT> buckets_;
  Member<TableT> oldbuckets_;  // non-null while growing
  Member<TableT> nextbuckets_;  // the next table while it is prefaulted, before its growth
  const MapOptions options_;
  const uint64_t seed_;
  size_t count_ = 0;
  uint64_t clear_sequence_ = 0;
  size_t writes_in_growth_ = 0;
  size_t growth_left_ = 0;  // old buckets not evacuated, as this map last saw
  size_t inserts_waiting_ = 0;  // growth triggers met while nextbuckets_ is prefaulted
  bool growing_ = false;
  mutable std::atomic<uint32_t> flags_{0};
  mutable std::atomic<const char*> writer_operation_{nullptr};
};

// ---------------------------------------------------------------- iteration

template <class K, class V, class Hash, class Eq>
  requires map_detail::SlotType<K> && map_detail::SlotType<V>
class Map<K, V, Hash, Eq>::Iterator {
 public:
  using value_type = Entry;
  using difference_type = std::ptrdiff_t;

  Entry operator*() const { return current_; }
  Iterator& operator++() {
    advance();
    return *this;
  }
  bool operator==(std::default_sentinel_t) const { return done_; }

 private:
  friend class Entries;
  static constexpr size_t kNoCheck = SIZE_MAX;

  Iterator(Mutator& mutator, Map* map, TableT* table, Local<TableT>& read_root)
      : mutator_(mutator), map_(map), table_(table), read_root_(read_root), clear_sequence_(map->clear_sequence_) {
    if (table_ == nullptr) {
      done_ = true;
      return;
    }
    const uint64_t random = random_map_seed();
    start_bucket_ = random & table_->mask();
    offset_ = static_cast<size_t>(random >> 61);
    next_bucket_ = start_bucket_;
    advance();
  }

  // Finds the next entry (Go's mapiternext, with per-bucket states in place
  // of evacuated tophash marks).
  void advance() {
    if (map_->flags_.load(std::memory_order_relaxed) & kWriting)
      map_detail::concurrent_map_misuse("concurrent map iteration and map write", "entries",
                                        map_->writer_operation_.load(std::memory_order_relaxed));
    if (map_->clear_sequence_ != clear_sequence_) {
      done_ = true;
      return;
    }
    for (;;) {
      if (chain_ == nullptr && !start_next_bucket()) {
        done_ = true;
        return;
      }
      for (; slot_ < map_detail::kBucketSlots; ++slot_) {
        const size_t i = (slot_ + offset_) & (map_detail::kBucketSlots - 1);
        if (map_detail::is_empty(chain_->tophash[i])) continue;
        const K key = map_detail::read_key(chain_->keys[i]);
        if (map_detail::is_dead_key(key)) continue;
        if (check_bucket_ != kNoCheck && (Hash{}(key, map_->seed_) & table_->mask()) != check_bucket_) continue;
        if (authoritative()) {
          current_ = Entry{key, map_detail::load_slot(chain_->values[i])};
        } else {
          // Moved (or erased) since this table was current: the map says.
          const Found found = map_->locate(key, Hash{}(key, map_->seed_));
          if (found.bucket == nullptr) continue;
          current_ = Entry{key, map_detail::load_slot(found.bucket->values[found.slot])};
        }
        ++slot_;
        return;
      }
      chain_ = chain_->overflow.load(std::memory_order_relaxed);
      slot_ = 0;
    }
  }

  // Moves to the next bucket index of the iterator's table; false when all
  // were visited. Polls the safepoint every few buckets (the tables are rooted).
  bool start_next_bucket() {
    if (wrapped_ && next_bucket_ == start_bucket_) return false;
    if (++buckets_since_poll_ == kIterationPollBuckets) {
      buckets_since_poll_ = 0;
      map_detail::count(map_detail::counters().iterator_polls);
      mutator_.safepoint();
      if (map_->clear_sequence_ != clear_sequence_) return false;
    }
    const size_t bucket = next_bucket_;
    next_bucket_ = (next_bucket_ + 1) & table_->mask();
    if (next_bucket_ == start_bucket_) wrapped_ = true;
    check_bucket_ = kNoCheck;
    read_table_ = table_;
    read_index_ = bucket;
    TableT* old = map_->oldbuckets_.get();
    if (old != nullptr && map_->buckets_.get() == table_) {
      // The map grows into our table: an old bucket not moved yet holds the
      // entries; take those that belong to this bucket.
      const size_t old_index = bucket & old->mask();
      if (old->state(old_index).load(std::memory_order_acquire) != map_detail::kDone) {
        read_table_ = old;
        read_index_ = old_index;
        if (old->bucket_count() != table_->bucket_count()) check_bucket_ = bucket;
      }
    }
    read_root_ = read_table_;
    chain_ = read_table_->bucket(read_index_);
    slot_ = 0;
    return true;
  }

  // Entries read from the map's current table, or from an old bucket not yet
  // moved, are the map's own; anything else may be stale.
  bool authoritative() const {
    if (read_table_ == map_->buckets_.get()) return true;
    return read_table_ == map_->oldbuckets_.get() &&
           read_table_->state(read_index_).load(std::memory_order_acquire) != map_detail::kDone;
  }

  Mutator& mutator_;
  Map* map_;
  TableT* table_;             // the table the loop started on (rooted by Entries)
  Local<TableT>& read_root_;  // roots read_table_
  TableT* read_table_ = nullptr;
  size_t read_index_ = 0;
  BucketT* chain_ = nullptr;
  size_t slot_ = 0;
  size_t start_bucket_ = 0;
  size_t next_bucket_ = 0;
  size_t offset_ = 0;
  size_t check_bucket_ = kNoCheck;
  size_t buckets_since_poll_ = 0;
  uint64_t clear_sequence_;
  bool wrapped_ = false;
  bool done_ = false;
  Entry current_{};
};

template <class K, class V, class Hash, class Eq>
  requires map_detail::SlotType<K> && map_detail::SlotType<V>
class Map<K, V, Hash, Eq>::Entries {
 public:
  Entries(Mutator& mutator, Map* map)
      : mutator_(mutator), map_root_(mutator, map), table_root_(mutator, map->buckets_.get()), read_root_(mutator) {}
  Entries(const Entries&) = delete;
  Entries& operator=(const Entries&) = delete;

  // One pass; begin() may be called once.
  Iterator begin() { return Iterator(mutator_, map_root_.get(), table_root_.get(), read_root_); }
  std::default_sentinel_t end() const { return {}; }

 private:
  Mutator& mutator_;
  Local<Map> map_root_;
  Local<TableT> table_root_;
  Local<TableT> read_root_;
};

}  // namespace tricolor
