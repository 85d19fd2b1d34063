// marker.h — transitive marking with an explicit grey stack.
//
// Owns: the Visitor the collector hands to roots and trace functions. Colours,
// for this marker: white = mark bit clear; grey = mark bit set and the object
// on the grey stack (its fields not yet visited); black = mark bit set and
// popped (fields visited). Objects of types without pointers go straight to
// black. Weak slots met while tracing are recorded and cleared after marking
// if their target stayed white.
// Invariant: when drain() returns, no object is grey, so every object
// reachable from the visited roots is black.
// Speed: visiting a pointer touches only span metadata (page map, mark bit),
// never the object; objects are read when traced, and drain() passes them
// through a small FIFO that prefetches each header kPrefetchDistance objects
// ahead, so the cache misses of a pointer-chasing graph overlap.
// In checked builds every visited pointer is validated: it must point at the
// start of an allocated object in the managed heap; otherwise the collector
// stops with the holder's type name (a missing trace, a stale pointer).
#pragma once

#include <mimalloc.h>

#include <atomic>
#include <vector>

#include "heap.h"
#include "visitor.h"

namespace tricolor::gc {

class Marker final : public Visitor {
 public:
  explicit Marker(Heap& heap) : heap_(heap) {}

  void visit_object(const void* object) override;
  void visit_weak_slot(std::atomic<void*>* slot) override;

  // Visits fields of grey objects until none is left.
  void drain();
  // Nulls recorded weak slots whose targets are white.
  void clear_dead_weak_slots();

  bool is_marked(const void* object) const;
  size_t marked_objects() const { return marked_objects_; }

 private:
  void report_bad_pointer(const void* object, const char* problem) const;

  Heap& heap_;
  static constexpr size_t kPrefetchDistance = 16;
  std::vector<const void*, mi_stl_allocator<const void*>> grey_;
  std::vector<std::atomic<void*>*, mi_stl_allocator<std::atomic<void*>*>> weak_slots_;
  const TypeInfo* holder_ = nullptr;  // the object being traced, for messages
  size_t marked_objects_ = 0;
};

}  // namespace tricolor::gc
