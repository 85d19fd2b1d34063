// sync_map.h — SyncMap<K, V, Hash, Eq>: a managed map that many threads write.
//
// Owns: the shards (a mutex and a managed Map each) and the shard choice.
// Invariants:
//  - an entry lives in the shard its hash picks (the hash's top bits, under a
//    per-SyncMap seed, independent of the shard maps' own seeds);
//  - every access to a shard's map holds that shard's mutex, so each Map
//    keeps its one-writer rule;
//  - a thread waiting for a shard's mutex is inside a BlockingRegion, so a
//    holder that reaches a safepoint (its write grew the map and allocated)
//    never waits for the waiters to stop: no deadlock with the collector
//    (and a writer roots its key and value while it waits).
// Reads copy values out under the lock (get), never hand out bucket pointers.
#pragma once

#include <array>
#include <cstddef>
#include <mutex>
#include <optional>

#include "../gc/make.h"
#include "../gc/member.h"
#include "../gc/mutator.h"
#include "map.h"

namespace tricolor {

template <class K, class V, class Hash = MapHash<K>, class Eq = std::equal_to<>>
class SyncMap {
 public:
  using MapT = Map<K, V, Hash, Eq>;
  static constexpr size_t kShards = 64;

  // Allocates the shard maps (the SyncMap is a root while it is constructed).
  explicit SyncMap(Mutator& mutator, MapOptions options = {}) : seed_(random_map_seed()) {
    for (Shard& shard : shards_) shard.map = make<MapT>(mutator, options);
  }

  void trace(Visitor& visitor) const {
    for (const Shard& shard : shards_) visitor.visit(shard.map);
  }

  bool insert_or_assign(Mutator& mutator, const K& key, const V& value) {
    map_detail::ArgumentRoots roots(mutator, key, value);  // waiting for the lock may collect
    Shard& shard = shard_of(key);
    Lock lock(mutator, shard);
    return shard.map->insert_or_assign(mutator, key, value);
  }
  template <class Q>
  bool erase(Mutator& mutator, const Q& key) {
    Shard& shard = shard_of(key);
    Lock lock(mutator, shard);
    return shard.map->erase(mutator, key);
  }
  template <class Q>
  std::optional<V> get(Mutator& mutator, const Q& key) {
    Shard& shard = shard_of(key);
    Lock lock(mutator, shard);
    return shard.map->get(key);
  }
  template <class Q>
  bool contains(Mutator& mutator, const Q& key) {
    return get(mutator, key).has_value();
  }
  // The sum of the shards' sizes, each read under its lock (not one snapshot).
  size_t size(Mutator& mutator) {
    size_t total = 0;
    for (Shard& shard : shards_) {
      Lock lock(mutator, shard);
      total += shard.map->size();
    }
    return total;
  }
  void clear(Mutator& mutator) {
    for (Shard& shard : shards_) {
      Lock lock(mutator, shard);
      shard.map->clear(mutator);
    }
  }
  // Calls visit(key, value) for every entry, shard by shard, each under its
  // lock: `visit` must not touch this SyncMap.
  template <class Visit>
  void for_each(Mutator& mutator, Visit&& visit) {
    for (Shard& shard : shards_) {
      Lock lock(mutator, shard);
      for (auto [key, value] : shard.map->entries(mutator)) visit(key, value);
    }
  }

 private:
  struct Shard {  // one cache line each (managed objects align to 8 at most)
    std::mutex mutex;
    Member<MapT> map;
    char padding[64 - sizeof(std::mutex) - sizeof(Member<MapT>)];
  };
  class Lock {
   public:
    Lock(Mutator& mutator, Shard& shard) : shard_(shard) {
      if (!shard_.mutex.try_lock()) {
        BlockingRegion blocked(mutator);
        shard_.mutex.lock();
      }
    }
    ~Lock() { shard_.mutex.unlock(); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    Shard& shard_;
  };

  template <class Q>
  Shard& shard_of(const Q& key) {
    return shards_[Hash{}(key, seed_) >> 58];  // 64 shards: the top 6 bits
  }

  const uint64_t seed_;
  std::array<Shard, kShards> shards_;
};

}  // namespace tricolor
