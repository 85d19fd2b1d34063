// ephemeron.h — Ephemeron<K, V>: a key/value field whose value lives only
// as long as its key is alive by other paths (a weak-keyed map's entry).
//
// Owns: the field type and its barriers. The key is held weakly; the value is
// held strongly only while the key is alive, so a value that refers back to
// its own key does not keep the pair alive (the classic leak of weak-keyed
// tables built from a WeakMember key and a Member value).
// Invariants:
//  - markers trace the value only once the key is marked; until then the pair
//    is pending, and the mark does not end while a pending pair has a marked
//    key (gc/collector.cpp: resolve_ephemerons);
//  - after the mark a pair whose key died reads as empty: the collector
//    nulls the key slot, and value() never returns a value without a live key,
//    so the stale value slot is never read;
//  - set() is barriered like a Member store (the new key and value shaded
//    while marking, the old value too while its key was live).
#pragma once

#include <atomic>

#include "barrier.h"
#include "errors.h"

namespace tricolor {

template <class K, class V>
class Ephemeron {
 public:
  Ephemeron() = default;
  Ephemeron(K* key, V* value) { set(key, value); }
  Ephemeron(const Ephemeron&) = delete;
  Ephemeron& operator=(const Ephemeron&) = delete;

  // Stores the pair. `key` must not be null unless `value` is (use clear()).
  void set(K* key, V* value) {
    if constexpr (kChecked) gc::check_heap_access("an Ephemeron store");
    if (key == nullptr && value != nullptr)
      throw UsageError("Ephemeron::set: a null key with a non-null value; a value needs a live key (use clear() "
                       "to empty the pair)");
    // A slot whose key was cleared holds a stale value: not a reference.
    const void* old_value = key_.load(std::memory_order_relaxed) != nullptr ? value_.load(std::memory_order_relaxed)
                                                                           : nullptr;
    weak_store_barrier(key);
    write_barrier(old_value, value);
    value_.store(value, std::memory_order_relaxed);
    key_.store(key, std::memory_order_release);
  }
  void clear() { set(nullptr, nullptr); }

  // The key, or null once it died (a weak read: while marking it is shaded).
  K* key() const { return static_cast<K*>(const_cast<void*>(weak_read(key_.load(std::memory_order_acquire)))); }
  // The value while the key lives, else null.
  V* value() const { return key() != nullptr ? static_cast<V*>(value_.load(std::memory_order_relaxed)) : nullptr; }

  std::atomic<void*>* key_slot() const { return &key_; }
  std::atomic<void*>* value_slot() const { return &value_; }

 private:
  mutable std::atomic<void*> key_{nullptr};
  mutable std::atomic<void*> value_{nullptr};
};

}  // namespace tricolor
