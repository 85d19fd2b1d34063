// object.h — every Lox runtime object, as a tricolor managed type.
//
// Owns: the object kinds (strings, functions, natives, closures, upvalues,
// classes, instances, bound methods, and the Map extension), their trace
// functions, and the tables they use (tricolor Maps keyed by interned
// strings). Each kind starts with Obj, whose `kind` says which it is.
// Invariants:
//  - every managed pointer an object holds is a Member (barriered) or a Value
//    slot written with store_value(), and its trace visits all of them;
//  - arrays a marker may trace while the VM grows them (a function's
//    constants) are managed ValueArrays replaced whole, never reallocated in
//    place: a marker reads the old or the new one, both alive;
//  - strings are interned (one ObjString per content, through a weak table in
//    the VM), so string equality is pointer equality.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string_view>
#include <tricolor/tricolor.h>
#include <vector>

#include "value.h"

namespace lox {

enum class ObjKind : uint8_t {
  kString,
  kFunction,
  kNative,
  kClosure,
  kUpvalue,
  kClass,
  kInstance,
  kBoundMethod,
  kMap,
};

struct Obj {
  explicit Obj(ObjKind k) : kind(k) {}
  const ObjKind kind;
};

inline bool is_kind(Value v, ObjKind kind) { return v.is_object() && v.as_object()->kind == kind; }

struct ObjString : Obj {
  static constexpr bool kHasNoPointers = true;
  explicit ObjString(std::string_view text);
  const uint32_t length;
  const char* chars() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view view() const { return {chars(), length}; }
};

// A growable array of Values for a function's constants. Grown by copying
// into a bigger one (ValueArray::append), so a marker never reads freed memory.
struct ValueArray {
  explicit ValueArray(uint32_t capacity) : capacity(capacity) {}
  const uint32_t capacity;
  std::atomic<uint32_t> count{0};
  Value* slots() { return reinterpret_cast<Value*>(this + 1); }
  const Value* slots() const { return reinterpret_cast<const Value*>(this + 1); }
  Value at(size_t i) const { return load_value(slots()[i]); }
  void trace(tricolor::Visitor& v) const {
    const uint32_t n = count.load(std::memory_order_acquire);
    for (uint32_t i = 0; i < n; ++i) v.visit_object(at(i).pointer());
  }
};

struct ObjFunction : Obj {
  ObjFunction() : Obj(ObjKind::kFunction) {}
  int arity = 0;
  int upvalue_count = 0;
  tricolor::Member<ObjString> name;  // null: the top-level script
  // The chunk: bytecode and its source lines (plain data, never traced) and
  // the constants (managed).
  std::vector<uint8_t> code;
  std::vector<int> lines;
  tricolor::Member<ValueArray> constants;
  void trace(tricolor::Visitor& v) const {
    v.visit(name);
    v.visit(constants);
  }
};

class VM;
// A native function: false after reporting a runtime error through the VM.
// args[-1] is the callee's slot (the receiver for a native method).
using NativeFn = bool (*)(VM& vm, int argc, Value* args, Value* result);

struct ObjNative : Obj {
  static constexpr bool kHasNoPointers = true;
  ObjNative(NativeFn f, int a, const char* n) : Obj(ObjKind::kNative), fn(f), arity(a), name(n) {}
  const NativeFn fn;
  const int arity;  // -1: any
  const char* const name;
};

struct ObjUpvalue : Obj {
  explicit ObjUpvalue(Value* slot) : Obj(ObjKind::kUpvalue), location(slot) {}
  Value* location;        // a VM stack slot while open, then &closed
  Value closed;           // written with store_value() when closed
  ObjUpvalue* next_open = nullptr;  // the VM's list of open upvalues (a root of its own)
  void trace(tricolor::Visitor& v) const { v.visit_object(load_value(closed).pointer()); }
};

struct ObjClosure : Obj {
  ObjClosure(ObjFunction* f) : Obj(ObjKind::kClosure), function(f), upvalue_count(f->upvalue_count) {}
  tricolor::Member<ObjFunction> function;
  const int upvalue_count;
  tricolor::Member<ObjUpvalue>* upvalues() { return reinterpret_cast<tricolor::Member<ObjUpvalue>*>(this + 1); }
  const tricolor::Member<ObjUpvalue>* upvalues() const {
    return reinterpret_cast<const tricolor::Member<ObjUpvalue>*>(this + 1);
  }
  void trace(tricolor::Visitor& v) const {
    v.visit(function);
    for (int i = 0; i < upvalue_count; ++i) v.visit(upvalues()[i]);
  }
};

// Fields and methods: tricolor Maps keyed by interned strings.
using Table = tricolor::Map<ObjString*, Value>;

struct ObjClass : Obj {
  explicit ObjClass(ObjString* n) : Obj(ObjKind::kClass), name(n) {}
  tricolor::Member<ObjString> name;
  tricolor::Member<Table> methods;
  void trace(tricolor::Visitor& v) const {
    v.visit(name);
    v.visit(methods);
  }
};

struct ObjInstance : Obj {
  explicit ObjInstance(ObjClass* k) : Obj(ObjKind::kInstance), klass(k) {}
  tricolor::Member<ObjClass> klass;
  tricolor::Member<Table> fields;  // made at the first field store
  void trace(tricolor::Visitor& v) const {
    v.visit(klass);
    v.visit(fields);
  }
};

struct ObjBoundMethod : Obj {
  // `method` is a closure, or a native method of the Map extension.
  ObjBoundMethod(Value r, Obj* m) : Obj(ObjKind::kBoundMethod), method(m) { store_value(receiver, r); }
  Value receiver;
  tricolor::Member<Obj> method;
  void trace(tricolor::Visitor& v) const {
    v.visit_object(load_value(receiver).pointer());
    v.visit(method);
  }
};

// The Map extension: a tricolor Map from any Lox value to any Lox value.
using ValueMap = tricolor::Map<Value, Value, ValueHash, ValueEq>;

struct ObjMap : Obj {
  ObjMap() : Obj(ObjKind::kMap) {}
  tricolor::Member<ValueMap> map;
  void trace(tricolor::Visitor& v) const { v.visit(map); }
};

// Printing, as clox prints (numbers like "%g").
void print_value(std::FILE* out, Value v);
std::string_view kind_name(ObjKind kind);

}  // namespace lox
