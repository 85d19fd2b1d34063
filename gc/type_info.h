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
  static constexpr TypeInfo info{detail::TypeNameStorage<T>::chars.data(), sizeof(T),
                                 trace_fn(), destroy_fn()};
};

}  // namespace tricolor
