// visitor.h — how a managed object shows the collector its pointers.
//
// Owns: the Visitor interface that a type's `trace(Visitor&) const` calls for
// each managed pointer it holds, and that root scanners call for each root.
// Invariant: tracing is precise — a trace function visits every managed pointer
// field of its object exactly as stored (null is allowed and ignored), and a
// pointer it visits points at the start of a managed object, never inside one.
// Implemented by the marker (gc/marker.h) and later by the heap verifier.
#pragma once

#include <atomic>
#include <cstddef>

namespace tricolor {

template <class T>
class Member;
template <class T>
class WeakMember;
template <class K, class V>
class Ephemeron;

class Visitor {
 public:
  virtual ~Visitor() = default;

  // A strong managed pointer (null is fine).
  virtual void visit_object(const void* object) = 0;
  // A weak slot: it does not keep its target alive; the collector nulls the
  // slot after marking if the target died.
  virtual void visit_weak_slot(std::atomic<void*>* slot) = 0;
  // An ephemeron (gc/ephemeron.h): the value slot's target is kept alive
  // only once the key slot's target is alive by other paths.
  virtual void visit_ephemeron(std::atomic<void*>* key_slot, std::atomic<void*>* value_slot) = 0;

  template <class T>
  void visit(const Member<T>& member) { visit_object(member.get()); }
  template <class T>
  void visit(const WeakMember<T>& member) { visit_weak_slot(member.slot()); }
  template <class K, class V>
  void visit(const Ephemeron<K, V>& pair) { visit_ephemeron(pair.key_slot(), pair.value_slot()); }
  // A raw managed pointer field (stores into it must call write_barrier()).
  template <class T>
  void visit(T* const& pointer) { visit_object(pointer); }

  // A run of managed pointers, e.g. an interpreter's value stack.
  void visit_range(const void* const* first, size_t count) {
    for (size_t i = 0; i < count; ++i) visit_object(first[i]);
  }
  template <class T>
  void visit_range(const Member<T>* first, size_t count) {
    for (size_t i = 0; i < count; ++i) visit_object(first[i].get());
  }
};

}  // namespace tricolor
