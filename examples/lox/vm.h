// vm.h — the Lox virtual machine: a stack VM over tricolor's managed heap.
//
// Owns: the value stack and call frames (the mutator's roots, visited by the
// root scanner the VM installs), the open-upvalue list, the global table, the
// weak string-intern table, the natives, and the interpreter loop.
// Invariants:
//  - at every allocation (and every safepoint poll), each object the VM
//    still needs is reachable from a root: the stack, a frame, an open
//    upvalue, the globals, a function being compiled, or a Local — values in
//    C++ variables only are pushed first (clox's discipline; with a
//    concurrent collector an object allocated before the cycle's start and
//    held only in a C++ variable would be swept);
//  - the interpreter loop polls the safepoint at every backward jump and
//    every call, so a collection never waits for more than a loop body;
//  - runtime errors print the message and a stack trace to stderr and reset
//    the stack; the VM stays usable (the REPL goes on).
#pragma once

#include <array>
#include <cstdio>
#include <string_view>
#include <tricolor/tricolor.h>
#include <vector>

#include "object.h"

namespace lox {

// The weak intern table: keys are Weak<ObjString> (an unused string dies),
// hashed and compared by content so that a string_view finds its string;
// each value is its own key (an ephemeron entry: it lives only through the
// key, so it does not keep the key alive) — find() hands it back.
struct InternHash {
  uint64_t operator()(tricolor::Weak<ObjString> key, uint64_t seed) const { return (*this)(key.get()->view(), seed); }
  uint64_t operator()(std::string_view text, uint64_t seed) const {
    return tricolor::hash_bytes(text.data(), text.size(), seed);
  }
};
struct InternEq {
  bool operator()(tricolor::Weak<ObjString> a, tricolor::Weak<ObjString> b) const { return a.get() == b.get(); }
  bool operator()(tricolor::Weak<ObjString> a, std::string_view b) const { return a.get()->view() == b; }
};
using InternTable = tricolor::Map<tricolor::Weak<ObjString>, ObjString*, InternHash, InternEq>;

// Natives (natives.cpp): the globals clock(), gc(), gcstats() and Map(), and
// the Map extension's methods.
struct NativeSpec {
  const char* name;
  NativeFn fn;
  int arity;  // -1: any
};
const std::vector<NativeSpec>& global_natives();
const std::vector<NativeSpec>& map_natives();

enum class InterpretResult { kOk, kCompileError, kRuntimeError };

class VM {
 public:
  static constexpr int kFramesMax = 64;
  static constexpr int kStackMax = kFramesMax * 256;

  VM(tricolor::Runtime& runtime, tricolor::Mutator& mutator);
  VM(const VM&) = delete;
  VM& operator=(const VM&) = delete;
  ~VM();

  InterpretResult interpret(std::string_view source);

  // Allocation (each may collect; see the invariant above).
  ObjString* intern(std::string_view text);
  ObjFunction* new_function();
  ValueArray* new_value_array(uint32_t capacity);
  // Appends to a function's constants (growing them); the index.
  size_t add_constant(ObjFunction* function, Value value);
  template <class T, class... Args>
  T* make(Args&&... args) {
    return tricolor::make<T>(mutator_, std::forward<Args>(args)...);
  }

  // The value stack.
  void push(Value v) { *top_++ = v; }
  Value pop() { return *--top_; }
  Value peek(int distance) const { return top_[-1 - distance]; }

  // Reports a runtime error (message, then one line per frame) and resets the
  // stack; returns false so that callers can `return vm.runtime_error(...)`.
  [[gnu::format(printf, 2, 3)]] bool runtime_error(const char* format, ...);

  // Functions being compiled are roots until they are done.
  void begin_compiling(ObjFunction* function) { compiling_.push_back(function); }
  void end_compiling() { compiling_.pop_back(); }

  tricolor::Mutator& mutator() { return mutator_; }
  tricolor::Runtime& runtime() { return runtime_; }
  ObjString* init_string() const { return init_string_.get(); }

  // Whether a string with this content is interned (for tests: a string
  // nothing holds any more leaves the weak table at the next collection).
  bool is_interned(std::string_view text) const { return strings_->contains(text); }

  // The Map extension's methods, by name (null if none).
  ObjNative* map_method(ObjString* name) const;

 private:
  struct CallFrame {
    ObjClosure* closure;
    const uint8_t* ip;
    Value* slots;
  };

  InterpretResult run();
  void visit_roots(tricolor::Visitor& visitor);
  void reset_stack();
  bool call_value(Value callee, int argc);
  bool call(ObjClosure* closure, int argc);
  bool call_native(ObjNative* native, int argc);
  bool invoke(ObjString* name, int argc);
  bool invoke_from_class(ObjClass* klass, ObjString* name, int argc);
  bool bind_method(ObjClass* klass, ObjString* name);
  bool get_property(ObjString* name);
  bool set_property(ObjString* name);
  ObjUpvalue* capture_upvalue(Value* local);
  void close_upvalues(const Value* last);
  void define_method(ObjString* name);
  void define_natives(Table& table, const std::vector<NativeSpec>& natives);
  void concatenate();

  tricolor::Runtime& runtime_;
  tricolor::Mutator& mutator_;
  std::unique_ptr<Value[]> stack_;
  Value* top_;
  std::array<CallFrame, kFramesMax> frames_{};
  int frame_count_ = 0;
  ObjUpvalue* open_upvalues_ = nullptr;
  std::vector<ObjFunction*> compiling_;
  tricolor::Persistent<Table> globals_;
  tricolor::Persistent<InternTable> strings_;
  tricolor::Persistent<ObjString> init_string_;
  tricolor::Persistent<Table> map_methods_;
};


}  // namespace lox
