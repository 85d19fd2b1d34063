// binarytrees.cpp — the Computer Language Benchmarks Game "binary-trees",
// written from the benchmark's published description:
//
//   max_depth = max(min_depth + 2, N) with min_depth = 4 (N: --depth, default 21);
//   build a "stretch" tree of depth max_depth + 1, check it, drop it;
//   build a long-lived tree of depth max_depth that lives to the end;
//   for depth d = min_depth, min_depth + 2, ..., max_depth: build, check and
//   drop 2^(max_depth - d + min_depth) trees of depth d;
//   finally check the long-lived tree.
// A tree is built bottom-up (children before parent); a node is two child
// pointers and nothing else; "check" walks a tree and counts its nodes. The
// program prints the benchmark's usual lines, e.g.
//   stretch tree of depth 22	 check: 8388607
//   2097152	 trees of depth 4	 check: 65011712
//   long lived tree of depth 21	 check: 4194303
// Every check is compared with the closed form (a tree of depth d has
// 2^(d+1) - 1 nodes) and a mismatch makes the program exit non-zero.
//
// This version is single-threaded (the Benchmarks Game's fastest entries
// build the trees of one depth on several threads).
//
// Implementations (--impl): tricolor (make<Node>, garbage left to the
// collector, which honours GOGC / GOMEMLIMIT / GODEBUG) and manual_mimalloc
// (new/delete routed to mi_malloc/mi_free, each tree freed explicitly after
// its check: the speed-of-light reference).
//
// This file owns the algorithm, its two tree allocators, its checks and the
// --depth flag; the rest of the command line (--impl, --out), the driver that
// runs each implementation in a child and writes OUT/binarytrees.json, the
// Runtime and the metrics are bench_main's (harness.h, record.h); the
// mimalloc node base and the Persistent long-lived tree are in trees.h.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tricolor/tricolor.h>

#include "harness.h"
#include "record.h"
#include "trees.h"

namespace {

using tricolor_bench::Measured;
using tricolor_bench::Metrics;
using tricolor_bench::set_metric;
using tricolor_bench::Stopwatch;

constexpr int kMinDepth = 4;
constexpr long nodes_of_depth(int depth) { return (long{1} << (depth + 1)) - 1; }

// ---------------------------------------------------------------- tricolor --

struct TNode {
  tricolor::Member<TNode> left;
  tricolor::Member<TNode> right;
  TNode() = default;
  TNode(TNode* l, TNode* r) : left(l), right(r) {}
  void trace(tricolor::Visitor& v) const {
    v.visit(left);
    v.visit(right);
  }
};

struct TricolorTrees {
  using Node = TNode;
  tricolor::Mutator& m;

  // Both finished subtrees are Local roots while the parent is allocated.
  Node* bottom_up(int depth) {
    if (depth == 0) return tricolor::make<Node>(m);
    tricolor::Local<Node> left(m, bottom_up(depth - 1));
    tricolor::Local<Node> right(m, bottom_up(depth - 1));
    return tricolor::make<Node>(m, left.get(), right.get());
  }
  void drop(Node*) {}  // garbage: the collector reclaims it
  void safepoint() { m.safepoint(); }

  class Tree {  // a tree held across allocations
   public:
    Tree(TricolorTrees& trees, Node* root) : root_(trees.m, root) {}
    Node* get() const { return root_.get(); }

   private:
    tricolor::Local<Node> root_;
  };
  using LongLived = tricolor_bench::PersistentTree<Node>;  // a global root
};

// ---------------------------------------------------------- manual_mimalloc --

struct MNode : tricolor_bench::MimallocAllocated {
  MNode* left = nullptr;
  MNode* right = nullptr;
  MNode() = default;
  MNode(MNode* l, MNode* r) : left(l), right(r) {}
};

struct ManualTrees {
  using Node = MNode;
  Node* bottom_up(int depth) {
    if (depth == 0) return new Node();
    Node* left = bottom_up(depth - 1);
    Node* right = bottom_up(depth - 1);
    return new Node(left, right);
  }
  void drop(Node* node) {
    if (node == nullptr) return;
    drop(node->left);
    drop(node->right);
    delete node;
  }
  void safepoint() {}

  class Tree {  // owns the tree and frees it at scope end
   public:
    Tree(ManualTrees& trees, Node* root) : trees_(trees), root_(root) {}
    Tree(const Tree&) = delete;
    Tree& operator=(const Tree&) = delete;
    ~Tree() { trees_.drop(root_); }
    Node* get() const { return root_; }

   private:
    ManualTrees& trees_;
    Node* root_;
  };
  using LongLived = Tree;
};

// -------------------------------------------------------------- algorithm --

template <class Node>
long check_tree(const Node* node) {
  long count = 1;
  if (node->left != nullptr) count += check_tree<Node>(node->left);
  if (node->right != nullptr) count += check_tree<Node>(node->right);
  return count;
}

void expect(long got, long want, const char* what, int depth) {
  if (got != want) tricolor_bench::check_failed("%s of depth %d: check %ld, expected %ld", what, depth, got, want);
}

// Returns the wall time and the number of nodes allocated (the "ops").
template <class T>
Measured binarytrees(T& trees, int n) {
  using Node = typename T::Node;
  const int max_depth = std::max(kMinDepth + 2, n);
  const int stretch_depth = max_depth + 1;
  Measured measured;
  Stopwatch timer;
  {
    typename T::Tree stretch(trees, trees.bottom_up(stretch_depth));
    const long check = check_tree<Node>(stretch.get());
    std::printf("stretch tree of depth %d\t check: %ld\n", stretch_depth, check);
    expect(check, nodes_of_depth(stretch_depth), "stretch tree", stretch_depth);
    measured.operations += nodes_of_depth(stretch_depth);
  }

  typename T::LongLived long_lived(trees, trees.bottom_up(max_depth));
  measured.operations += nodes_of_depth(max_depth);

  for (int depth = kMinDepth; depth <= max_depth; depth += 2) {
    const long iterations = long{1} << (max_depth - depth + kMinDepth);
    long check = 0;
    for (long i = 0; i < iterations; ++i) {
      typename T::Tree tree(trees, trees.bottom_up(depth));
      check += check_tree<Node>(tree.get());
      trees.safepoint();
    }
    std::printf("%ld\t trees of depth %d\t check: %ld\n", iterations, depth, check);
    expect(check, iterations * nodes_of_depth(depth), "trees", depth);
    measured.operations += iterations * nodes_of_depth(depth);
  }

  const long check = check_tree<Node>(long_lived.get());
  std::printf("long lived tree of depth %d\t check: %ld\n", max_depth, check);
  expect(check, nodes_of_depth(max_depth), "long lived tree", max_depth);
  measured.seconds = timer.seconds();
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
  tricolor_bench::BenchProgram program{
      .name = "binarytrees",
      .flags = {{.name = "--depth",
                 .metavar = "N",
                 .help = "maximum tree depth (default 21)",
                 .expects = "an integer in 0..30",
                 .parse = [&](const std::string& value) { return parse_depth(value, depth); }}},
      .implementations =
          {
              {.name = "concurrent",
               .with_collector =
                   [&](tricolor::Mutator& mutator) {
                     TricolorTrees trees{mutator};
                     return binarytrees(trees, depth);
                   },
               .without_collector = {},
               .environment = {{"TRICOLOR_MODE", "concurrent"}}},
              {.name = "stw",
               .with_collector =
                   [&](tricolor::Mutator& mutator) {
                     TricolorTrees trees{mutator};
                     return binarytrees(trees, depth);
                   },
               .without_collector = {},
               .environment = {{"TRICOLOR_MODE", "stw"}}},
              {.name = "manual_mimalloc",
               .with_collector = {},
               .without_collector =
                   [&] {
                     ManualTrees trees;
                     return binarytrees(trees, depth);
                   }},
#ifdef TRICOLOR_BENCH_BOEHM
              // The Boehm GC peer (bench/peers/boehm), its own program.
              {.name = "boehm", .external_program = TRICOLOR_BENCH_BOEHM},
              {.name = "boehm_incremental", .external_program = TRICOLOR_BENCH_BOEHM, .by_default = false},
#endif
          },
      .title =
          [&](const std::string& impl) {
            return "binary-trees, depth " + std::to_string(depth) + ", single-threaded, implementation " + impl;
          },
      .add_metrics =
          [&](Metrics& metrics, const Measured& run) {
            set_metric(metrics, "depth", depth);
            set_metric(metrics, "allocations", static_cast<double>(run.operations));
            set_metric(metrics, "threads", 1);
          },
  };
  return tricolor_bench::bench_main(argc, argv, program);
}
