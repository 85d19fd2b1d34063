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
// its check: the speed-of-light reference). Without --impl the program is the
// driver: it runs itself once per implementation and writes
// OUT/binarytrees.json (see record.h, harness.h).
#include <mimalloc.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <tricolor/tricolor.h>

#include "harness.h"
#include "record.h"

namespace {

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
  class LongLived {  // the long-lived tree: a global root
   public:
    LongLived(TricolorTrees&, Node* root) : root_(root) {}
    Node* get() const { return root_.get(); }

   private:
    tricolor::Persistent<Node> root_;
  };
};

// ---------------------------------------------------------- manual_mimalloc --

struct MNode {
  MNode* left = nullptr;
  MNode* right = nullptr;
  MNode() = default;
  MNode(MNode* l, MNode* r) : left(l), right(r) {}
  static void* operator new(size_t bytes) {
    void* p = mi_malloc(bytes);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  static void operator delete(void* p) noexcept { mi_free(p); }
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

bool failed = false;
void expect(long got, long want, const char* what, int depth) {
  if (got == want) return;
  std::fprintf(stderr, "binarytrees: CHECK FAILED: %s of depth %d: check %ld, expected %ld\n", what, depth,
               got, want);
  failed = true;
}

struct Counts {
  double seconds = 0;
  long nodes = 0;  // nodes allocated: the "ops" of ops_per_s
};

template <class T>
Counts binarytrees(T& trees, int n) {
  using Node = typename T::Node;
  const int max_depth = std::max(kMinDepth + 2, n);
  const int stretch_depth = max_depth + 1;
  Counts counts;
  Stopwatch timer;
  {
    typename T::Tree stretch(trees, trees.bottom_up(stretch_depth));
    const long check = check_tree<Node>(stretch.get());
    std::printf("stretch tree of depth %d\t check: %ld\n", stretch_depth, check);
    expect(check, nodes_of_depth(stretch_depth), "stretch tree", stretch_depth);
    counts.nodes += nodes_of_depth(stretch_depth);
  }

  typename T::LongLived long_lived(trees, trees.bottom_up(max_depth));
  counts.nodes += nodes_of_depth(max_depth);

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
    counts.nodes += iterations * nodes_of_depth(depth);
  }

  const long check = check_tree<Node>(long_lived.get());
  std::printf("long lived tree of depth %d\t check: %ld\n", max_depth, check);
  expect(check, nodes_of_depth(max_depth), "long lived tree", max_depth);
  counts.seconds = timer.seconds();
  return counts;
}

int run_impl(const std::string& impl, int depth) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("binary-trees, depth %d, single-threaded, implementation %s\n", depth, impl.c_str());
  Metrics metrics;
  Counts counts;
  if (impl == "tricolor") {
    std::optional<tricolor::Runtime> runtime;
    try {
      runtime.emplace();  // reads GOGC, GOMEMLIMIT, GODEBUG, TRICOLOR_*
    } catch (const std::exception& error) {
      std::fprintf(stderr, "binarytrees: %s\n", error.what());
      return 2;
    }
    {
      tricolor::MutatorScope mutator(*runtime);
      TricolorTrees trees{mutator};
      counts = binarytrees(trees, depth);
    }
    set_metric(metrics, "wall_s", counts.seconds);
    set_metric(metrics, "ops_per_s", static_cast<double>(counts.nodes) / counts.seconds);
    tricolor_bench::add_gc_metrics(metrics, runtime->stats());
  } else if (impl == "manual_mimalloc") {
    ManualTrees trees;
    counts = binarytrees(trees, depth);
    set_metric(metrics, "wall_s", counts.seconds);
    set_metric(metrics, "ops_per_s", static_cast<double>(counts.nodes) / counts.seconds);
  } else {
    std::fprintf(stderr, "binarytrees: unknown implementation '%s' (tricolor, manual_mimalloc)\n", impl.c_str());
    return 2;
  }
  set_metric(metrics, "depth", depth);
  set_metric(metrics, "allocations", static_cast<double>(counts.nodes));
  set_metric(metrics, "threads", 1);
  set_metric(metrics, "peak_rss_bytes", tricolor_bench::peak_rss_bytes());
  if (failed) {
    std::fprintf(stderr, "binarytrees: %s FAILED its correctness checks\n", impl.c_str());
    return 1;
  }
  tricolor_bench::print_result(impl, metrics);
  return 0;
}

void usage(FILE* to) {
  std::fprintf(to,
               "usage: bench_binarytrees [--depth N] [--impl tricolor|manual_mimalloc] [--out DIR]\n"
               "  --depth N: maximum tree depth (default 21)\n"
               "  without --impl: run every implementation in a child process and write DIR/binarytrees.json\n"
               "  (DIR: --out, else $TRICOLOR_BENCH_OUT, else bench/out)\n");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = tricolor_bench::command_line(argc, argv);
  const std::string out_dir = tricolor_bench::take_out_dir(argc, argv);
  std::string impl;
  int depth = 21;
  // Everything but --impl is passed on to the children by the driver.
  int forwarded = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string value;
    if ((arg == "--impl" || arg == "--depth") && i + 1 < argc) {
      value = argv[i + 1];
    } else if (arg.starts_with("--impl=") || arg.starts_with("--depth=")) {
      value = arg.substr(arg.find('=') + 1);
    } else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "bench_binarytrees: unknown argument '%s'\n", arg.c_str());
      usage(stderr);
      return 2;
    }
    const bool separate = arg == "--impl" || arg == "--depth";
    if (arg.starts_with("--impl")) {
      impl = value;
    } else {
      char* end = nullptr;
      const long parsed = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || parsed < 0 || parsed > 30) {
        std::fprintf(stderr, "bench_binarytrees: --depth expects an integer in 0..30, got '%s'\n", value.c_str());
        return 2;
      }
      depth = static_cast<int>(parsed);
      argv[forwarded++] = argv[i];
      if (separate) argv[forwarded++] = argv[i + 1];
    }
    if (separate) ++i;
  }
  argc = forwarded;
  argv[argc] = nullptr;
  if (!impl.empty()) return run_impl(impl, depth);
  return tricolor_bench::drive("binarytrees", {"tricolor", "manual_mimalloc"}, argc, argv, out_dir, command);
}
