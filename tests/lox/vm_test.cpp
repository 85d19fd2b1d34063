// vm_test.cpp — the Lox VM (examples/lox) driven from C++: what its programs
// cannot observe themselves. The corpus beside this file checks the language.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <tricolor/tricolor.h>

#include "vm.h"

namespace {

tricolor::Options options() {
  tricolor::Options o;
  if (const char* mode = std::getenv("TRICOLOR_MODE")) o.concurrent = std::string(mode) != "stw";
  o.verify = true;
  return o;
}

// A runtime (mode from TRICOLOR_MODE, verifier on), this thread as its
// mutator, and a VM.
struct Lox {
  tricolor::Runtime runtime{options()};
  tricolor::MutatorScope m{runtime};
  lox::VM vm{runtime, m};
};

}  // namespace

TEST_CASE_FIXTURE(Lox, "strings nothing holds any more leave the weak intern table; held ones stay") {
  // Strings of 2, 4, ..., 1024 x's, the last one kept in a global, the rest
  // garbage; and one built in a function, kept through a closure.
  const char* program =
      "var s = \"x\";\n"
      "for (var i = 0; i < 10; i = i + 1) s = s + s;\n"
      "var kept = s;\n"
      "fun make() { var t = \"y\" + \"z\"; fun get() { return t; } return get; }\n"
      "var getter = make();\n";
  REQUIRE(vm.interpret(program) == lox::InterpretResult::kOk);
  CHECK(vm.is_interned(std::string(512, 'x')));  // garbage, not collected yet
  runtime.collect();
  runtime.collect();
  for (size_t n = 2; n < 1024; n *= 2) {
    CAPTURE(n);
    CHECK_FALSE(vm.is_interned(std::string(n, 'x')));
  }
  CHECK(vm.is_interned(std::string(1024, 'x')));  // the global
  CHECK(vm.is_interned("yz"));                      // the closure's upvalue
  CHECK(vm.is_interned("init"));                    // the VM's own
  CHECK(vm.is_interned("getter"));                  // a global's name
  // Dropping the last holders lets them go too.
  REQUIRE(vm.interpret("kept = nil; s = nil; getter = nil;") == lox::InterpretResult::kOk);
  runtime.collect();
  runtime.collect();
  CHECK_FALSE(vm.is_interned(std::string(1024, 'x')));
  CHECK_FALSE(vm.is_interned("yz"));
}

TEST_CASE_FIXTURE(Lox, "what a program drops is reclaimed; what its globals hold is not") {
  const char* program =
      "class Node { init(next) { this.next = next; } }\n"
      "var head = nil;\n"
      "for (var i = 0; i < 20000; i = i + 1) head = Node(head);\n"
      "var table = Map();\n"
      "for (var i = 0; i < 20000; i = i + 1) table.set(i, Node(nil));\n";
  REQUIRE(vm.interpret(program) == lox::InterpretResult::kOk);
  runtime.collect();
  const size_t held = runtime.stats().live_bytes;
  CHECK(held > 40000 * 48);  // 40,000 instances, each with its field table
  REQUIRE(vm.interpret("head = nil; table = nil;") == lox::InterpretResult::kOk);
  runtime.collect();
  runtime.collect();
  CHECK(runtime.stats().live_bytes < held / 20);
}

TEST_CASE_FIXTURE(Lox, "a runtime error leaves the VM usable, its stack and frames reset") {
  REQUIRE(vm.interpret("var big = Map(); for (var i = 0; i < 1000; i = i + 1) big.set(i, i);\n"
                       "fun f(n) { if (n == 0) return nil + 1; return f(n - 1); }\n") == lox::InterpretResult::kOk);
  CHECK(vm.interpret("f(50);") == lox::InterpretResult::kRuntimeError);
  runtime.collect();
  CHECK(vm.interpret("if (big.size() != 1000) nil + 1;") == lox::InterpretResult::kOk);
  CHECK(vm.interpret("fun g(n) { if (n == 0) return 0; return g(n - 1); } g(60);") == lox::InterpretResult::kOk);
}
