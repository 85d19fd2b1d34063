// value.h — a Lox value: one NaN-boxed 64-bit word.
//
// Owns: the Value encoding (a double, or nil/false/true, or a pointer to a
// managed object), Lox equality and the hash that agrees with it, and the
// barriered store every Value slot inside a managed object goes through.
// Invariants:
//  - all-zero bits are the number 0, which holds no pointer: fresh (zeroed)
//    managed memory is a valid array of Values;
//  - a Value slot inside a managed object is written only by store_value()
//    (write barrier with the old and the new target, then an atomic store) and
//    read by markers with an atomic load; the VM's own stack is a root, so it
//    needs neither.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <tricolor/tricolor.h>

namespace lox {

struct Obj;

class Value {
 public:
  constexpr Value() = default;
  static Value number(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    return Value(bits);
  }
  static constexpr Value nil() { return Value(kQuietNan | kTagNil); }
  static constexpr Value boolean(bool b) { return Value(kQuietNan | (b ? kTagTrue : kTagFalse)); }
  static Value object(const Obj* o) { return Value(kSignBit | kQuietNan | reinterpret_cast<uint64_t>(o)); }

  bool is_number() const { return (bits_ & kQuietNan) != kQuietNan; }
  bool is_nil() const { return bits_ == nil().bits_; }
  bool is_bool() const { return (bits_ | 1) == boolean(true).bits_; }
  bool is_object() const { return (bits_ & (kQuietNan | kSignBit)) == (kQuietNan | kSignBit); }

  double as_number() const {
    double d;
    std::memcpy(&d, &bits_, sizeof d);
    return d;
  }
  bool as_bool() const { return bits_ == boolean(true).bits_; }
  Obj* as_object() const { return reinterpret_cast<Obj*>(bits_ & ~(kSignBit | kQuietNan)); }
  // The managed object this value points to, or null (for the collector).
  const void* pointer() const { return is_object() ? as_object() : nullptr; }

  bool falsey() const { return is_nil() || (is_bool() && !as_bool()); }
  uint64_t bits() const { return bits_; }
  // Identity of the representation (for the map's slot equality).
  friend bool operator==(Value a, Value b) { return a.bits_ == b.bits_; }

 private:
  static constexpr uint64_t kSignBit = 0x8000000000000000ull;
  static constexpr uint64_t kQuietNan = 0x7ffc000000000000ull;
  static constexpr uint64_t kTagNil = 1;
  static constexpr uint64_t kTagFalse = 2;
  static constexpr uint64_t kTagTrue = 3;
  explicit constexpr Value(uint64_t bits) : bits_(bits) {}
  uint64_t bits_ = 0;
};

// Lox's ==: numbers by value (so NaN is not equal to itself, and -0 == 0),
// everything else by identity (strings are interned).
inline bool values_equal(Value a, Value b) {
  if (a.is_number() && b.is_number()) return a.as_number() == b.as_number();
  return a.bits() == b.bits();
}

// The barriered store into a Value slot of a managed object.
inline void store_value(Value& slot, Value value) {
  std::atomic_ref<Value> ref(slot);
  tricolor::write_barrier(ref.load(std::memory_order_relaxed).pointer(), value.pointer());
  ref.store(value, std::memory_order_relaxed);
}
// A Value slot of a managed object, read where a marker may read it too.
inline Value load_value(const Value& slot) {
  return std::atomic_ref<Value>(const_cast<Value&>(slot)).load(std::memory_order_relaxed);
}

// Map keys and values: Lox equality, and a hash that agrees with it.
struct ValueHash {
  uint64_t operator()(Value v, uint64_t seed) const {
    if (v.is_number()) {
      const double d = v.as_number();
      return tricolor::hash_word(d == 0.0 ? 0 : v.bits(), seed);  // -0 == 0
    }
    return tricolor::hash_word(v.bits(), seed);
  }
};
struct ValueEq {
  bool operator()(Value a, Value b) const { return values_equal(a, b); }
};

}  // namespace lox

// The map's slots hold Values: say where the pointer is.
template <>
struct tricolor::SlotTraits<lox::Value> {
  static constexpr bool kHasPointers = true;
  static constexpr bool kWeak = false;
  static const void* pointer(lox::Value v) { return v.pointer(); }
};
