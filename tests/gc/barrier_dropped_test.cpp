// barrier_dropped_test.cpp — each half of the hybrid write barrier is
// necessary: with it the verifier passes; built with
// TRICOLOR_TEST_DROP_DELETION_BARRIER or TRICOLOR_TEST_DROP_INSERTION_BARRIER
// (test-only builds, see tests/meson.build) the scenario that needs that half
// loses an object and the verifier stops the process at the end of marking —
// or, with the colour check run between every two steps (verify_colours), at
// the very store that broke the invariant.
// Each scenario runs in a child process; the parent reads how it ended.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <functional>
#include <string>

#include "../../gc/verifier.h"
#include "child_process.h"
#include "cycle_stepper.h"
#include "test_types.h"

using namespace tricolor;
using test::Node;

namespace {

// Deletion (Yuasa) half: the mutator takes B out of A after its own roots
// were scanned and before A is traced; only the shading of the old value
// keeps B, which the mutator still holds.
void deletion_scenario(bool check_each_step) {
  gc::Collector collector(test::stepped_config());
  Mutator m(collector);
  auto step = [&] {
    if (check_each_step) gc::verify_colours(collector);
  };
  Persistent<Node> a{make<Node>(m, 1)};
  a->left = make<Node>(m, 2);
  Local<Node> held(m);
  collector.begin_mark(&m, gc::CycleReason::kExplicit);
  step();
  collector.scan_mutator_roots(&m);  // held is empty now: the stack is black
  step();
  held = a->left.get();
  step();
  a->left = nullptr;                 // the deleted edge was B's only path
  step();
  collector.mark_global_roots();
  step();
  collector.drain_background(SIZE_MAX);
  step();
  collector.flush_barrier_buffers(&m);
  step();
  collector.drain_background(SIZE_MAX);
  step();
  if (!collector.try_end_mark(&m)) _exit(4);
  collector.sweep_and_finish();
  if (held->payload != 2) _exit(5);
}

// Insertion (Dijkstra) half: before the mutator's roots are scanned it moves
// B from its stack into A, which is already black; only the shading of the
// new value keeps B.
void insertion_scenario(bool check_each_step) {
  gc::Collector collector(test::stepped_config());
  Mutator m(collector);
  auto step = [&] {
    if (check_each_step) gc::verify_colours(collector);
  };
  Persistent<Node> a{make<Node>(m, 1)};
  Local<Node> held(m, make<Node>(m, 2));
  collector.begin_mark(&m, gc::CycleReason::kExplicit);
  step();
  collector.mark_global_roots();
  step();
  collector.drain_background(SIZE_MAX);  // A is black
  step();
  a->left = held.get();
  step();
  held = nullptr;                        // B lives on only in A
  step();
  collector.scan_mutator_roots(&m);
  step();
  collector.flush_barrier_buffers(&m);
  step();
  collector.drain_background(SIZE_MAX);
  step();
  if (!collector.try_end_mark(&m)) _exit(4);
  collector.sweep_and_finish();
  if (a->left->payload != 2) _exit(5);
}

// `problem`, `path`: how the verifier's report must name the fault and the
// way to the lost object.
void expect(const test::ChildOutcome& outcome, bool half_dropped, const char* problem, const char* path) {
  CAPTURE(outcome.stderr_text);
  CAPTURE(outcome.exit_code);
  if (half_dropped) {
    CHECK(outcome.aborted);
    CHECK(outcome.stderr_text.find(problem) != std::string::npos);
    CHECK(outcome.stderr_text.find(path) != std::string::npos);
  } else {
    CHECK_FALSE(outcome.aborted);
    CHECK(outcome.exit_code == 0);
  }
}

#ifdef TRICOLOR_TEST_DROP_DELETION_BARRIER
constexpr bool kDeletionDropped = true;
#else
constexpr bool kDeletionDropped = false;
#endif
#ifdef TRICOLOR_TEST_DROP_INSERTION_BARRIER
constexpr bool kInsertionDropped = true;
#else
constexpr bool kInsertionDropped = false;
#endif

}  // namespace

constexpr const char* kLostAtEnd = "unmarked at the end of marking (lost object)";

TEST_CASE("deletion half of the barrier: needed when a stack-held object loses its heap path") {
  expect(test::run_in_child([] { deletion_scenario(false); }), kDeletionDropped, kLostAtEnd,
         "path: mutator roots -> test::Node");
}

TEST_CASE("insertion half of the barrier: needed while a stack is not yet scanned") {
  expect(test::run_in_child([] { insertion_scenario(false); }), kInsertionDropped, kLostAtEnd,
         "path: Persistent -> test::Node -> test::Node");
}

TEST_CASE("the colour check between steps names the missing half at the store that needed it") {
  expect(test::run_in_child([] { deletion_scenario(true); }), kDeletionDropped,
         "held by a scanned root, and no grey object or unscanned root reaches it (a deletion barrier is missing)",
         "path: mutator roots -> test::Node");
  expect(test::run_in_child([] { insertion_scenario(true); }), kInsertionDropped,
         "is white and its parent is black (an insertion barrier is missing)",
         "path: Persistent -> test::Node -> test::Node");
}
