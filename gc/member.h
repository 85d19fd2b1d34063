// member.h — managed pointer fields: Member<T> (strong) and WeakMember<T>.
//
// Owns: the field types that live inside managed objects. Invariant: every
// store into a Member goes through write_barrier(old, new) first — including
// construction, because objects are allocated black while marking and a store
// into a fresh object must still shade its target. Fields are atomics accessed
// with relaxed ordering (a plain mov on x86-64) so that a concurrent marker may
// read them while the owning mutator writes.
#pragma once

#include <atomic>
#include <cstddef>

#include "barrier.h"
#include "errors.h"

namespace tricolor {

template <class T>
class Member {
 public:
  Member() = default;
  Member(std::nullptr_t) {}  // NOLINT(google-explicit-constructor)
  Member(T* target) { store(target); }  // NOLINT(google-explicit-constructor)
  Member(const Member& other) { store(other.get()); }
  Member& operator=(const Member& other) { return *this = other.get(); }
  Member& operator=(T* target) {
    store(target);
    return *this;
  }
  Member& operator=(std::nullptr_t) { return *this = static_cast<T*>(nullptr); }

  T* get() const { return pointer_.load(std::memory_order_relaxed); }
  T* operator->() const { return get(); }
  T& operator*() const { return *get(); }
  operator T*() const { return get(); }  // NOLINT(google-explicit-constructor)
  explicit operator bool() const { return get() != nullptr; }

 private:
  void store(T* target) {
    if constexpr (kChecked) gc::check_heap_access("a Member<T> store");
    write_barrier(get(), target);
    pointer_.store(target, std::memory_order_relaxed);
  }
  std::atomic<T*> pointer_{nullptr};
};

// A field that does not keep its target alive. After a collection in which the
// target died, get() returns null. A store while marking shades its target
// (weak_store_barrier) so that objects born black keep no dangling slot.
template <class T>
class WeakMember {
 public:
  WeakMember() = default;
  WeakMember(T* target) : slot_(target) { weak_store_barrier(target); }  // NOLINT(google-explicit-constructor)
  WeakMember(const WeakMember& other) : slot_(other.slot_.load(std::memory_order_relaxed)) {}
  WeakMember& operator=(const WeakMember& other) { return *this = other.get(); }
  WeakMember& operator=(T* target) {
    weak_store_barrier(target);
    slot_.store(target, std::memory_order_relaxed);
    return *this;
  }
  T* get() const {
    return static_cast<T*>(const_cast<void*>(weak_read(slot_.load(std::memory_order_relaxed))));
  }
  explicit operator bool() const { return get() != nullptr; }
  std::atomic<void*>* slot() const { return &slot_; }

 private:
  mutable std::atomic<void*> slot_{nullptr};
};

}  // namespace tricolor
