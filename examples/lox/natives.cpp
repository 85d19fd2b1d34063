// natives.cpp — the native functions: clock(), gc(), gcstats(), and the Map
// extension (Map(), m.set(k, v), m.get(k), m.has(k), m.remove(k), m.size()).
//
// Natives get their arguments on the VM's stack (args[0..argc-1], the callee
// or receiver at args[-1]), so everything they are given stays rooted while
// they allocate. clock() is wall-clock time: with a concurrent collector,
// process CPU time would also count the collector's threads.
#include <chrono>
#include <cstdio>
#include <string>

#include "vm.h"

namespace lox {
namespace {

bool clock_native(VM&, int, Value*, Value* result) {
  static const auto start = std::chrono::steady_clock::now();
  *result = Value::number(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return true;
}

bool gc_native(VM& vm, int, Value*, Value* result) {
  vm.runtime().collect();
  *result = Value::nil();
  return true;
}

bool gcstats_native(VM& vm, int, Value*, Value* result) {
  const tricolor::Stats s = vm.runtime().stats();
  char text[256];
  std::snprintf(text, sizeof text,
                "collections %llu, pauses %llu (p50 %.1f us, p99 %.1f us, max %.1f us), heap %zu bytes (goal %zu)",
                static_cast<unsigned long long>(s.collections), static_cast<unsigned long long>(s.pause_ns.count()),
                s.pause_ns.percentile(0.5) / 1e3, s.pause_ns.percentile(0.99) / 1e3, s.pause_ns.max() / 1e3,
                s.heap_live_bytes, s.heap_goal_bytes);
  *result = Value::object(vm.intern(text));
  return true;
}

bool map_new(VM& vm, int, Value* args, Value* result) {
  auto* object = vm.make<ObjMap>();
  args[-1] = Value::object(object);  // rooted in the callee's slot while its table is made
  object->map = vm.make<ValueMap>();
  *result = args[-1];
  return true;
}

ValueMap& map_of(Value* args) { return *static_cast<ObjMap*>(args[-1].as_object())->map; }

bool map_set(VM& vm, int, Value* args, Value* result) {
  map_of(args).insert_or_assign(vm.mutator(), args[0], args[1]);
  *result = Value::nil();
  return true;
}

bool map_get(VM&, int, Value* args, Value* result) {
  const Value* found = map_of(args).find(args[0]);
  *result = found ? *found : Value::nil();
  return true;
}

bool map_has(VM&, int, Value* args, Value* result) {
  *result = Value::boolean(map_of(args).contains(args[0]));
  return true;
}

bool map_remove(VM& vm, int, Value* args, Value* result) {
  *result = Value::boolean(map_of(args).erase(vm.mutator(), args[0]));
  return true;
}

bool map_size(VM&, int, Value* args, Value* result) {
  *result = Value::number(static_cast<double>(map_of(args).size()));
  return true;
}

}  // namespace

const std::vector<NativeSpec>& global_natives() {
  static const std::vector<NativeSpec> natives = {
      {"clock", clock_native, 0},
      {"gc", gc_native, 0},
      {"gcstats", gcstats_native, 0},
      {"Map", map_new, 0},
  };
  return natives;
}

const std::vector<NativeSpec>& map_natives() {
  static const std::vector<NativeSpec> natives = {
      {"set", map_set, 2}, {"get", map_get, 1}, {"has", map_has, 1}, {"remove", map_remove, 1}, {"size", map_size, 0},
  };
  return natives;
}

}  // namespace lox
