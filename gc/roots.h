// roots.h — global roots: Persistent<T> (strong) and WeakRef<T> (weak).
//
// Owns: the process-wide registry of off-heap handles and the two handle
// types. A Persistent keeps its target alive from anywhere (a global, a
// container in C++ memory); a WeakRef observes its target without keeping it
// alive and reads null once the target has been collected.
// Invariants:
//  - a handle is in the registry for exactly its lifetime (constructor to
//    destructor), whatever thread creates or destroys it; the registry lock
//    makes that safe while a collector traces.
//  - assigning a Persistent is a root store and goes through write_barrier(),
//    because the concurrent collector scans global roots once per cycle.
//  - one Runtime at a time per process (runtime/runtime.h enforces it), so
//    handles need no Runtime argument.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>

#include "barrier.h"

namespace tricolor {

class Visitor;

namespace gc {

struct RootNode {
  std::atomic<void*> object{nullptr};
  RootNode* previous = nullptr;
  RootNode* next = nullptr;
};

class RootRegistry {
 public:
  void add_strong(RootNode* node) { add(strong_, node); }
  void remove_strong(RootNode* node) { remove(strong_, node); }
  void add_weak(RootNode* node) { add(weak_, node); }
  void remove_weak(RootNode* node) { remove(weak_, node); }

  // Visits every Persistent target.
  void trace_strong(Visitor& visitor);
  // Nulls every WeakRef whose target `is_live` rejects.
  void clear_dead_weak(const std::function<bool(const void*)>& is_live);
  size_t strong_count();

 private:
  void add(RootNode*& head, RootNode* node);
  void remove(RootNode*& head, RootNode* node);

  std::mutex mutex_;
  RootNode* strong_ = nullptr;
  RootNode* weak_ = nullptr;
};

RootRegistry& global_roots();

}  // namespace gc

template <class T>
class Persistent {
 public:
  Persistent() { gc::global_roots().add_strong(&node_); }
  Persistent(T* target) : Persistent() { *this = target; }  // NOLINT(google-explicit-constructor)
  Persistent(const Persistent& other) : Persistent(other.get()) {}
  Persistent& operator=(const Persistent& other) { return *this = other.get(); }
  ~Persistent() { gc::global_roots().remove_strong(&node_); }

  Persistent& operator=(T* target) {
    write_barrier(get(), target);
    node_.object.store(target, std::memory_order_relaxed);
    return *this;
  }
  T* get() const { return static_cast<T*>(node_.object.load(std::memory_order_relaxed)); }
  T* operator->() const { return get(); }
  T& operator*() const { return *get(); }
  explicit operator bool() const { return get() != nullptr; }
  void reset() { *this = nullptr; }

 private:
  gc::RootNode node_;
};

template <class T>
class WeakRef {
 public:
  WeakRef() { gc::global_roots().add_weak(&node_); }
  WeakRef(T* target) : WeakRef() { *this = target; }  // NOLINT
  WeakRef(const WeakRef& other) : WeakRef(other.get()) {}
  WeakRef& operator=(const WeakRef& other) { return *this = other.get(); }
  ~WeakRef() { gc::global_roots().remove_weak(&node_); }

  WeakRef& operator=(T* target) {
    weak_store_barrier(target);
    node_.object.store(target, std::memory_order_relaxed);
    return *this;
  }
  // The target, or null if it has been collected. Hold the result in a Local
  // or a Member before the next safepoint to keep it alive.
  T* get() const {
    return static_cast<T*>(const_cast<void*>(weak_read(node_.object.load(std::memory_order_relaxed))));
  }
  explicit operator bool() const { return get() != nullptr; }

 private:
  gc::RootNode node_;
};

}  // namespace tricolor
