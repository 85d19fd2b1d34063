// slot_traits.h — what a map's key or value slot holds, for the collector.
//
// Owns: SlotTraits<T> (does a slot hold a managed pointer, is it weak, how to
// read the pointer out of it) and Weak<T> (a weak managed-pointer key). The
// map's bucket arrays trace only slots whose traits say they hold pointers,
// and a map whose keys and values hold none is never scanned at all.
// Invariants:
//  - slot types are trivially copyable, and all-zero bytes mean "no pointer"
//    (fresh bucket memory is zero and may be traced before it is written);
//  - a slot type with pointers is one 8-byte word, so that a marker may read
//    it while the map's writer stores into it (both through std::atomic_ref).
// Kinds:
//  - T* (raw managed pointer): a strong edge; the map barriers every store,
//    so a Member<T> is not needed (and, being atomic, is not a slot type);
//  - Weak<T>: a key that does not keep its target alive — with a pointer
//    value the pair is an ephemeron (the value lives only through the key);
//  - an embedder's tagged value: specialise SlotTraits with
//    kHasPointers = true and `static const void* pointer(const T&)`;
//  - anything else: no managed pointer.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

namespace tricolor {

// A weak managed-pointer map key (see Map): the entry disappears from the map
// once the collector finds its key dead.
template <class T>
class Weak {
 public:
  Weak() = default;
  Weak(T* target) : target_(target) {}  // NOLINT(google-explicit-constructor)
  T* get() const { return target_; }
  friend bool operator==(Weak a, Weak b) { return a.target_ == b.target_; }

 private:
  T* target_ = nullptr;
};

template <class T>
struct SlotTraits {
  static constexpr bool kHasPointers = false;
  static constexpr bool kWeak = false;
};

template <class T>
struct SlotTraits<T*> {
  static constexpr bool kHasPointers = true;
  static constexpr bool kWeak = false;
  static const void* pointer(T* value) { return value; }
};

template <class T>
struct SlotTraits<Weak<T>> {
  static constexpr bool kHasPointers = true;
  static constexpr bool kWeak = true;
  static const void* pointer(Weak<T> value) { return value.get(); }
};

namespace map_detail {

template <class T>
inline constexpr bool kSlotHasPointers = SlotTraits<T>::kHasPointers;

template <class T>
concept SlotType = std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T> &&
                   (!SlotTraits<T>::kHasPointers || (sizeof(T) == 8 && alignof(T) == 8));

// Slot access. Slots that hold pointers are read and written atomically
// (relaxed: a mov on x86-64) because markers read them concurrently.
template <class T>
T load_slot(const T& slot) {
  if constexpr (kSlotHasPointers<T>) return std::atomic_ref<T>(const_cast<T&>(slot)).load(std::memory_order_relaxed);
  else return slot;
}
template <class T>
void store_slot(T& slot, const T& value) {
  if constexpr (kSlotHasPointers<T>) std::atomic_ref<T>(slot).store(value, std::memory_order_relaxed);
  else slot = value;
}
template <class T>
const void* pointer_in(const T& value) {
  if constexpr (kSlotHasPointers<T>) return SlotTraits<T>::pointer(value);
  else return nullptr;
}
// The slot as the collector's weak-slot type (same size and representation).
template <class T>
std::atomic<void*>* as_atomic_pointer(const T& slot) {
  static_assert(sizeof(T) == sizeof(std::atomic<void*>));
  return reinterpret_cast<std::atomic<void*>*>(const_cast<T*>(&slot));
}

}  // namespace map_detail
}  // namespace tricolor
