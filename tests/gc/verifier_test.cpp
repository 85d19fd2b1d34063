// verifier_test.cpp — the heap verifier passes on a sound heap and stops the
// process, naming the path, when a reachable object was lost. The lost object
// is manufactured by a trace function that hides an edge from the marker but
// shows it to the verifier (as a missing barrier would in a concurrent mark).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "../../gc/collector.h"
#include "../../gc/verifier.h"
#include "child_process.h"
#include "test_types.h"

using namespace tricolor;

TEST_CASE("the verifier walks every reachable object of a sound heap") {
  Options options = test::quiet_options();
  options.verify = true;  // runs inside every collection as well
  Runtime rt{options};
  MutatorScope m(rt);
  Persistent<test::Node> root{make<test::Node>(m, 0)};
  test::Node* tail = root.get();
  for (int i = 1; i < 100; ++i) {
    tail->left = make<test::Node>(m, i);
    tail->right = make<test::Node>(m, -i);
    tail = tail->left;
  }
  rt.collect();
  rt.collector().world().stop(&m);
  const gc::VerifyResult result = gc::verify_heap(rt.collector());
  rt.collector().world().start();
  CHECK(result.objects == 199);
  CHECK(result.pointers == 198 + 1);
}

namespace {
alignas(16) unsigned char outside_the_heap[64];
struct Sneaky {  // hides its child (or a stray pointer) from the first trace (the marker's)
  static inline int traces = 0;
  static inline const void* stray = nullptr;  // shown to the later traces instead of the child
  Member<test::Node> child;
  void trace(Visitor& v) const {
    if (traces++ == 0) return;
    if (stray != nullptr) v.visit_object(stray);
    else v.visit(child);
  }
};

// In a child process: a verified collection over one Sneaky root (a stray
// pointer shown instead of its child when `stray` is set). Returns how the
// child ended, with its stderr captured for the checks.
test::ChildOutcome collect_sneaky_in_child(const void* stray) {
  return test::run_in_child([stray] {
    Options options = test::quiet_options();
    options.verify = true;
    Runtime rt{options};
    MutatorScope m(rt);
    Sneaky::stray = stray;  // in the child only
    Persistent<Sneaky> root{make<Sneaky>(m)};
    root->child = make<test::Node>(m, 1);
    rt.collect();  // the marker misses what Sneaky hides; the verifier finds it
  });
}
}  // namespace

TEST_CASE("a lost object stops the process with the path to it") {
  const test::ChildOutcome outcome = collect_sneaky_in_child(nullptr);
  const std::string& stderr_text = outcome.stderr_text;
  CAPTURE(stderr_text);
  CHECK(outcome.aborted);
  CHECK(stderr_text.find("verifier") != std::string::npos);
  CHECK(stderr_text.find("lost object") != std::string::npos);
  CHECK(stderr_text.find("Persistent -> ") != std::string::npos);
  CHECK(stderr_text.find("Sneaky") != std::string::npos);
}

TEST_CASE("a pointer outside the heap stops the verifier with its address and path") {
  const test::ChildOutcome outcome = collect_sneaky_in_child(outside_the_heap);  // never given out by the heap
  const std::string& stderr_text = outcome.stderr_text;
  CAPTURE(stderr_text);
  CHECK(outcome.aborted);
  CHECK(stderr_text.find("verifier: object 0x") != std::string::npos);
  CHECK(stderr_text.find("is outside the managed heap") != std::string::npos);
  CHECK(stderr_text.find("Persistent -> ") != std::string::npos);
}
