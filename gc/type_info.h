// type_info.h — what the collector knows about a managed type.
//
// Owns: TypeInfo (name, size, trace function, destructor) and TypeInfoFor<T>,
// the one static TypeInfo per managed type that every object's header points
// to. Invariant: a type with managed pointers has a trace function that visits
// every one of them (tracing is precise); a type without (a string, a byte
// buffer) says so with `static constexpr bool kHasNoPointers = true` and is
// never scanned; a trivially destructible type has no destructor entry, so
// sweeping it costs nothing per object.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace tricolor {

class Visitor;

struct TypeInfo {
  const char* name;                              // for the verifier and traces
  size_t size;                                   // sizeof(T), without extra bytes
  void (*trace)(const void* object, Visitor&);   // nullptr: no managed pointers
  void (*destroy)(void* object);                 // nullptr: trivially destructible
  // Optional, for big arrays (ChunkTraceable): lets a marker trace the object
  // in bounded chunks of slots instead of in one piece.
  size_t (*trace_slot_count)(const void* object);
  void (*trace_slots)(const void* object, size_t first, size_t end, Visitor&);
};

// A managed type either traces its pointers or declares it has none.
template <class T>
concept Traceable = requires(const T& object, Visitor& visitor) {
  { object.trace(visitor) } -> std::same_as<void>;
};
template <class T>
concept DeclaresNoPointers = requires { requires T::kHasNoPointers == true; };
template <class T>
concept Managed = (Traceable<T> || DeclaresNoPointers<T>) && (alignof(T) <= 8);

// A big array may also say how to trace it in pieces: it is a sequence of
// trace_slot_count() slots, and trace_slots(v, first, end) visits the
// pointers of slots [first, end) — plus the object's fixed fields when
// first == 0. Markers then trace it in chunks of a few thousand slots, so no
// unit of mark work (and no assist) grows with the array.
template <class T>
concept ChunkTraceable = requires(const T& object, Visitor& visitor, size_t first, size_t end) {
  { object.trace_slot_count() } -> std::convertible_to<size_t>;
  { object.trace_slots(visitor, first, end) } -> std::same_as<void>;
};

namespace detail {
// "Foo" out of __PRETTY_FUNCTION__, so traces and verifier paths name types.
template <class T>
constexpr std::string_view type_name() {
  std::string_view pretty = __PRETTY_FUNCTION__;
  const size_t start = pretty.find("T = ") + 4;
  const size_t end = pretty.find_first_of(";]", start);
  return pretty.substr(start, end - start);
}
template <class T>
struct TypeNameStorage {
  static constexpr auto view = type_name<T>();
  static constexpr auto chars = [] {
    std::array<char, view.size() + 1> out{};
    for (size_t i = 0; i < view.size(); ++i) out[i] = view[i];
    return out;
  }();
};
}  // namespace detail

template <Managed T>
struct TypeInfoFor {
  static void trace(const void* object, Visitor& visitor) {
    static_cast<const T*>(object)->trace(visitor);
  }
  static void destroy(void* object) { static_cast<T*>(object)->~T(); }
  using TraceFn = void (*)(const void*, Visitor&);
  using DestroyFn = void (*)(void*);
  static constexpr TraceFn trace_fn() {
    if constexpr (DeclaresNoPointers<T>) return nullptr;
    else return &trace;
  }
  static constexpr DestroyFn destroy_fn() {
    if constexpr (std::is_trivially_destructible_v<T>) return nullptr;
    else return &destroy;
  }
  static size_t slot_count(const void* object) { return static_cast<const T*>(object)->trace_slot_count(); }
  static void trace_slots(const void* object, size_t first, size_t end, Visitor& visitor) {
    static_cast<const T*>(object)->trace_slots(visitor, first, end);
  }
  using SlotCountFn = size_t (*)(const void*);
  using TraceSlotsFn = void (*)(const void*, size_t, size_t, Visitor&);
  static constexpr SlotCountFn slot_count_fn() {
    if constexpr (ChunkTraceable<T>) return &slot_count;
    else return nullptr;
  }
  static constexpr TraceSlotsFn trace_slots_fn() {
    if constexpr (ChunkTraceable<T>) return &trace_slots;
    else return nullptr;
  }
  static constexpr TypeInfo info{detail::TypeNameStorage<T>::chars.data(), sizeof(T), trace_fn(), destroy_fn(),
                                 slot_count_fn(), trace_slots_fn()};
};

}  // namespace tricolor
