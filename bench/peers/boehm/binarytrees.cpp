// binarytrees.cpp — the Boehm GC peer of bench/binarytrees.cpp (the Computer
// Language Benchmarks Game "binary-trees", single-threaded): the same workload
// on libgc's C API, so the two collectors can be compared.
//
// Invariant: the workload is bench/binarytrees.cpp's, step for step — with
// max_depth = max(min_depth + 2, N), min_depth = 4 and N from --depth (an
// integer in 0..30, default 21): the stretch tree of depth max_depth + 1; the
// long-lived tree of depth max_depth; 2^(max_depth - d + min_depth) trees of
// each depth d = min_depth, min_depth + 2, ..., max_depth; trees built
// bottom-up from nodes of two child pointers and nothing else (16 bytes);
// every check compared with the closed form 2^(d+1) - 1; the same printed
// lines, timed region (from before the stretch tree to after the long-lived
// tree's check) and "ops" (the nodes allocated). Only the heap differs: nodes
// are GC_MALLOC objects left to the collector once dropped, and roots are
// found by libgc's conservative scan of the stack and registers.
//
// This file owns the algorithm, its node layout, its checks and the --depth
// flag; the rest of the command line, the collector's set-up per --impl
// (boehm, boehm_incremental), the pause recording and the result line are
// boehm_common.h's.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "boehm_common.h"

namespace {

using boehm_peer::gc_new;
using boehm_peer::Measured;

constexpr int kMinDepth = 4;
constexpr long nodes_of_depth(int depth) { return (long{1} << (depth + 1)) - 1; }

struct Node {
  Node* left = nullptr;
  Node* right = nullptr;
};
static_assert(sizeof(Node) == 16, "bench/binarytrees.cpp's node: two child pointers and nothing else");

// Bottom-up: children first, then the parent.
Node* bottom_up(int depth) {
  if (depth == 0) return gc_new<Node>();
  Node* left = bottom_up(depth - 1);
  Node* right = bottom_up(depth - 1);
  return gc_new<Node>(left, right);
}

long check_tree(const Node* node) {
  long count = 1;
  if (node->left != nullptr) count += check_tree(node->left);
  if (node->right != nullptr) count += check_tree(node->right);
  return count;
}

void expect(long got, long want, const char* what, int depth) {
  if (got != want) boehm_peer::check_failed("%s of depth %d: check %ld, expected %ld", what, depth, got, want);
}

// Returns the wall time and the number of nodes allocated (the "ops").
Measured binarytrees(int n) {
  const int max_depth = std::max(kMinDepth + 2, n);
  const int stretch_depth = max_depth + 1;
  Measured measured;
  boehm_peer::TimedRegion region;
  {
    const Node* stretch = bottom_up(stretch_depth);
    const long check = check_tree(stretch);
    std::printf("stretch tree of depth %d\t check: %ld\n", stretch_depth, check);
    expect(check, nodes_of_depth(stretch_depth), "stretch tree", stretch_depth);
    measured.operations += nodes_of_depth(stretch_depth);
  }

  const Node* long_lived = bottom_up(max_depth);
  measured.operations += nodes_of_depth(max_depth);

  for (int depth = kMinDepth; depth <= max_depth; depth += 2) {
    const long iterations = long{1} << (max_depth - depth + kMinDepth);
    long check = 0;
    for (long i = 0; i < iterations; ++i) {
      const Node* tree = bottom_up(depth);
      check += check_tree(tree);
    }
    std::printf("%ld\t trees of depth %d\t check: %ld\n", iterations, depth, check);
    expect(check, iterations * nodes_of_depth(depth), "trees", depth);
    measured.operations += iterations * nodes_of_depth(depth);
  }

  const long check = check_tree(long_lived);
  std::printf("long lived tree of depth %d\t check: %ld\n", max_depth, check);
  expect(check, nodes_of_depth(max_depth), "long lived tree", max_depth);
  measured.seconds = region.finish();
  std::printf("A node is %zu bytes, a libgc object of %zu bytes (GC_size)\n", sizeof(Node), GC_size(long_lived));
  return measured;
}

// --depth: an integer in 0..30.
bool parse_depth(const std::string& value, int& depth) {
  char* end = nullptr;
  const long parsed = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || parsed < 0 || parsed > 30) return false;
  depth = static_cast<int>(parsed);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int depth = 21;
  const boehm_peer::Program program{
      .name = "binarytrees",
      .flags = {{.name = "--depth",
                 .metavar = "N",
                 .help = "maximum tree depth (default 21)",
                 .expects = "an integer in 0..30",
                 .parse = [&](const std::string& value) { return parse_depth(value, depth); }}},
      .title =
          [&](const std::string& impl) {
            return "binary-trees, depth " + std::to_string(depth) + ", single-threaded, implementation " + impl;
          },
  };
  return boehm_peer::run(argc, argv, program, [&] { return binarytrees(depth); });
}
