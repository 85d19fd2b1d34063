// gcbench.cpp — the Boehm GC peer of bench/gcbench.cpp (GCBench): the same
// workload on libgc's C API, so the two collectors can be compared.
//
// Invariant: the workload is bench/gcbench.cpp's, step for step — the stretch
// tree of depth 18; the long-lived top-down tree of depth 16 and array of
// 500000 doubles (the first half 1/i, the rest 0); for depth 4, 6, ..., 16,
// NumIters(depth) trees top-down and as many bottom-up, each dropped once
// built; a node of two child pointers and two ints (24 bytes); the same
// checks, inside and outside the timed region; the same timed region (from
// before the stretch tree to after GCBench's own check) and the same "ops"
// (every allocation: the nodes plus the array). Only the heap differs: nodes
// are GC_MALLOC objects (scanned conservatively, as libgc must), the array is
// one GC_MALLOC_ATOMIC object (never scanned) zeroed by memset, and dropped
// trees are left to the collector. Roots are found by libgc's conservative
// scan of the stack and registers, so no tree needs a handle.
//
// This file owns the algorithm, its node layout and its checks; the command
// line, the collector's set-up per --impl (boehm, boehm_incremental), the
// pause recording and the result line are boehm_common.h's.
#include <cstdio>
#include <string>

#include "boehm_common.h"

namespace {

using boehm_peer::gc_new;
using boehm_peer::Stopwatch;

constexpr int kStretchTreeDepth = 18;
constexpr int kLongLivedTreeDepth = 16;
constexpr int kArraySize = 500000;
constexpr int kMinTreeDepth = 4;
constexpr int kMaxTreeDepth = 16;

constexpr long tree_size(int depth) { return (long{1} << (depth + 1)) - 1; }
constexpr long num_iters(int depth) { return 2 * tree_size(kStretchTreeDepth) / tree_size(depth); }

// Allocations the algorithm makes (nodes plus the array), the "ops" of ops_per_s.
constexpr long total_allocations() {
  long total = tree_size(kStretchTreeDepth) + tree_size(kLongLivedTreeDepth) + 1;
  for (int d = kMinTreeDepth; d <= kMaxTreeDepth; d += 2) total += 2 * num_iters(d) * tree_size(d);
  return total;
}

struct Node {
  Node* left = nullptr;
  Node* right = nullptr;
  int i = 0;
  int j = 0;
};
static_assert(sizeof(Node) == 24, "bench/gcbench.cpp's node: two child pointers and two ints");

// The long-lived array: its length, then the doubles, as bench/gcbench.cpp's TDoubles.
struct Doubles {
  long length = 0;
  double* data() { return reinterpret_cast<double*>(this + 1); }  // the additional bytes
};

Doubles* new_doubles(long length) {
  void* memory = boehm_peer::gc_new_pointer_free(sizeof(Doubles) + sizeof(double) * static_cast<size_t>(length));
  return new (memory) Doubles{length};
}

// Top-down: `node` exists; give it children.
void populate(int depth, Node* node) {
  if (depth <= 0) return;
  --depth;
  node->left = gc_new<Node>();
  node->right = gc_new<Node>();
  populate(depth, node->left);
  populate(depth, node->right);
}

// Bottom-up: children first, then the parent.
Node* make_tree(int depth) {
  if (depth <= 0) return gc_new<Node>();
  Node* left = make_tree(depth - 1);
  Node* right = make_tree(depth - 1);
  return gc_new<Node>(left, right);
}

long count_nodes(const Node* node) {
  long count = 0;
  while (node != nullptr) {
    count += 1 + count_nodes(node->left);
    node = node->right;
  }
  return count;
}

// Labels every node with its depth and preorder index; check_labels() proves
// that no node of the long-lived tree was reclaimed and reused.
void label(Node* node, int depth, int& index) {
  if (node == nullptr) return;
  node->i = depth;
  node->j = index++;
  label(node->left, depth - 1, index);
  label(node->right, depth - 1, index);
}
bool check_labels(const Node* node, int depth, int& index) {
  if (depth < 0) return node == nullptr;
  if (node == nullptr || node->i != depth || node->j != index++) return false;
  return check_labels(node->left, depth - 1, index) && check_labels(node->right, depth - 1, index);
}

void check(bool ok, const char* what) {
  if (!ok) boehm_peer::check_failed("%s", what);
}

void time_construction(int depth) {
  const long iters = num_iters(depth);
  std::printf("Creating %ld trees of depth %d\n", iters, depth);
  {
    Stopwatch timer;
    for (long i = 0; i < iters; ++i) {
      Node* temp = gc_new<Node>();
      populate(depth, temp);
      if (i == iters - 1) check(count_nodes(temp) == tree_size(depth), "top-down tree size");
    }  // each temp tree is garbage from here
    std::printf("\tTop down construction took %.0f msec\n", timer.milliseconds());
  }
  {
    Stopwatch timer;
    for (long i = 0; i < iters; ++i) {
      Node* temp = make_tree(depth);
      if (i == iters - 1) check(count_nodes(temp) == tree_size(depth), "bottom-up tree size");
    }
    std::printf("\tBottom up construction took %.0f msec\n", timer.milliseconds());
  }
}

// Runs GCBench; returns the wall time of the timed region in seconds.
double gcbench() {
  std::printf(" Live storage will peak at %ld bytes.\n\n",
              static_cast<long>(2 * sizeof(Node) * tree_size(kLongLivedTreeDepth) + sizeof(double) * kArraySize));
  std::printf(" Stretching memory with a binary tree of depth %d\n", kStretchTreeDepth);
  boehm_peer::TimedRegion region;
  {
    Node* stretch = make_tree(kStretchTreeDepth);
    check(count_nodes(stretch) == tree_size(kStretchTreeDepth), "stretch tree size");
  }

  std::printf(" Creating a long-lived binary tree of depth %d\n", kLongLivedTreeDepth);
  Node* long_lived = gc_new<Node>();
  populate(kLongLivedTreeDepth, long_lived);
  int index = 0;
  label(long_lived, kLongLivedTreeDepth, index);

  std::printf(" Creating a long-lived array of %d doubles\n", kArraySize);
  Doubles* array = new_doubles(kArraySize);
  for (int i = 0; i < kArraySize / 2; ++i) array->data()[i] = 1.0 / i;

  for (int depth = kMinTreeDepth; depth <= kMaxTreeDepth; depth += 2) time_construction(depth);

  // GCBench's own check, inside the timed region as in the original.
  check(long_lived != nullptr && array->data()[1000] == 1.0 / 1000, "long-lived tree and array[1000]");
  const double seconds = region.finish();
  std::printf("Completed in %.0f msec\n", seconds * 1e3);

  // Thorough checks, outside the timed region.
  index = 0;
  check(count_nodes(long_lived) == tree_size(kLongLivedTreeDepth), "long-lived tree size");
  check(check_labels(long_lived, kLongLivedTreeDepth, index), "long-lived tree labels");
  bool array_ok = true;
  for (int i = 1; i < kArraySize; ++i) array_ok &= array->data()[i] == (i < kArraySize / 2 ? 1.0 / i : 0.0);
  check(array_ok, "long-lived array contents");
  std::printf("A node is %zu bytes, a libgc object of %zu bytes (GC_size)\n", sizeof(Node), GC_size(long_lived));
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const boehm_peer::Program program{
      .name = "gcbench",
      .flags = {},
      .title = [](const std::string& impl) { return "Garbage Collector Test (GCBench), implementation " + impl; },
  };
  return boehm_peer::run(argc, argv, program, [] { return boehm_peer::Measured{gcbench(), total_allocations()}; });
}
