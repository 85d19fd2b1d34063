// gcbench.cpp — GCBench, the classic collector benchmark of John Ellis and
// Pete Kovac, as adapted by Hans Boehm, written afresh from its description:
//
//   1. stretch the heap with a (garbage) bottom-up tree of depth 18;
//   2. build a long-lived top-down tree of depth 16 and a long-lived array of
//      500000 doubles (the first half filled with 1/i) that stay live to the end;
//   3. for depth 4, 6, ..., 16 build NumIters(depth) = 2·TreeSize(18)/TreeSize(depth)
//      trees top-down (allocate the node, then populate its children) and as
//      many bottom-up (children first), dropping each tree as soon as it is built;
//   4. check that the long-lived tree and array survived intact.
// A node is two child pointers and two ints.
//
// Implementations (--impl):
//   tricolor         nodes are make<Node> managed objects; garbage is left to
//                    the collector (GOGC, GOMEMLIMIT, GODEBUG from the environment).
//   manual_mimalloc  the same algorithm with new/delete routed to mi_malloc/mi_free
//                    and every dropped tree freed explicitly: the speed-of-light
//                    reference for an allocator with perfect knowledge of lifetimes.
// This file owns the algorithm, its two heaps and its checks; the command
// line (--impl, --out), the driver that runs each implementation in a child
// and writes OUT/gcbench.json, the Runtime and the metrics are bench_main's
// (harness.h, record.h); the mimalloc node base and the Persistent
// long-lived tree are in trees.h.
//
// Rooting (tricolor): a collection may happen inside any make<T>. The node a
// top-down populate() works on is always reachable from a rooted tree, and the
// finished halves of a bottom-up tree are held in Local handles until the
// parent exists; the long-lived tree and array are Persistent roots.
#include <mimalloc.h>

#include <cmath>
#include <cstdio>
#include <new>
#include <string>
#include <tricolor/tricolor.h>

#include "harness.h"
#include "record.h"
#include "trees.h"

namespace {

using tricolor_bench::Metrics;
using tricolor_bench::set_metric;
using tricolor_bench::Stopwatch;

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

// ---------------------------------------------------------------- tricolor --

struct TNode {
  tricolor::Member<TNode> left;
  tricolor::Member<TNode> right;
  int i = 0;
  int j = 0;
  TNode() = default;
  TNode(TNode* l, TNode* r) : left(l), right(r) {}
  void trace(tricolor::Visitor& v) const {
    v.visit(left);
    v.visit(right);
  }
};

struct TDoubles {
  static constexpr bool kHasNoPointers = true;
  long length = 0;
  double* data() { return reinterpret_cast<double*>(this + 1); }  // the additional bytes
};

struct TricolorHeap {
  using Node = TNode;
  tricolor::Mutator& m;

  Node* new_node() { return tricolor::make<Node>(m); }
  Node* new_node(Node* l, Node* r) { return tricolor::make<Node>(m, l, r); }
  void safepoint() { m.safepoint(); }

  // A tree held by C++ code across allocations: a Local root.
  class Holder : public tricolor::Local<Node> {
   public:
    Holder(TricolorHeap& heap, Node* node) : tricolor::Local<Node>(heap.m, node) {}
    Node* release() { return get(); }  // stays rooted until the Holder's scope ends
  };
  using LongLived = tricolor_bench::PersistentTree<Node>;  // a global root
  class Array {
   public:
    Array(TricolorHeap& heap, long length)
        : array_(tricolor::make<TDoubles>(heap.m, tricolor::AdditionalBytes{sizeof(double) * length})) {
      array_->length = length;
    }
    double* data() const { return array_->data(); }

   private:
    tricolor::Persistent<TDoubles> array_;
  };
};

// ---------------------------------------------------------- manual_mimalloc --

struct MNode : tricolor_bench::MimallocAllocated {
  MNode* left = nullptr;
  MNode* right = nullptr;
  int i = 0;
  int j = 0;
  MNode() = default;
  MNode(MNode* l, MNode* r) : left(l), right(r) {}
};

void free_tree(MNode* node) {
  while (node != nullptr) {  // recursion on the left, iteration on the right
    free_tree(node->left);
    MNode* right = node->right;
    delete node;
    node = right;
  }
}

struct ManualHeap {
  using Node = MNode;
  Node* new_node() { return new Node(); }
  Node* new_node(Node* l, Node* r) { return new Node(l, r); }
  void safepoint() {}

  // Owns a tree and frees it when dropped, as GCBench's "tree = null" does.
  class Holder {
   public:
    Holder(ManualHeap&, Node* node) : node_(node) {}
    Holder(const Holder&) = delete;
    Holder& operator=(const Holder&) = delete;
    ~Holder() { free_tree(node_); }
    Node* get() const { return node_; }
    Node* release() {
      Node* node = node_;
      node_ = nullptr;
      return node;
    }

   private:
    Node* node_;
  };
  using LongLived = Holder;
  class Array {
   public:
    Array(ManualHeap&, long length)
        : data_(static_cast<double*>(mi_zalloc(sizeof(double) * static_cast<size_t>(length)))) {
      if (data_ == nullptr) throw std::bad_alloc();
    }
    Array(const Array&) = delete;
    Array& operator=(const Array&) = delete;
    ~Array() { mi_free(data_); }
    double* data() const { return data_; }

   private:
    double* data_;
  };
};

// -------------------------------------------------------------- algorithm --

// Top-down: `node` exists (and is reachable from a root); give it children.
template <class H>
void populate(H& heap, int depth, typename H::Node* node) {
  if (depth <= 0) return;
  --depth;
  node->left = heap.new_node();
  node->right = heap.new_node();  // the left child is already reachable through node
  populate(heap, depth, node->left);
  populate(heap, depth, node->right);
}

// Bottom-up: children first, then the parent.
template <class H>
typename H::Node* make_tree(H& heap, int depth) {
  if (depth <= 0) return heap.new_node();
  typename H::Holder left(heap, make_tree(heap, depth - 1));
  typename H::Holder right(heap, make_tree(heap, depth - 1));
  return heap.new_node(left.release(), right.release());
}

template <class Node>
long count_nodes(const Node* node) {
  long count = 0;
  while (node != nullptr) {
    count += 1 + count_nodes<Node>(node->left);
    node = node->right;
  }
  return count;
}

// Labels every node with its depth and preorder index; check_labels() proves
// that no node of the long-lived tree was reclaimed and reused.
template <class Node>
void label(Node* node, int depth, int& index) {
  if (node == nullptr) return;
  node->i = depth;
  node->j = index++;
  label<Node>(node->left, depth - 1, index);
  label<Node>(node->right, depth - 1, index);
}
template <class Node>
bool check_labels(const Node* node, int depth, int& index) {
  if (depth < 0) return node == nullptr;
  if (node == nullptr || node->i != depth || node->j != index++) return false;
  return check_labels<Node>(node->left, depth - 1, index) && check_labels<Node>(node->right, depth - 1, index);
}

void check(bool ok, const char* what) {
  if (!ok) tricolor_bench::check_failed("%s", what);
}

template <class H>
void time_construction(H& heap, int depth) {
  const long iters = num_iters(depth);
  std::printf("Creating %ld trees of depth %d\n", iters, depth);
  {
    Stopwatch timer;
    for (long i = 0; i < iters; ++i) {
      typename H::Holder temp(heap, heap.new_node());
      populate(heap, depth, temp.get());
      if (i == iters - 1) check(count_nodes(temp.get()) == tree_size(depth), "top-down tree size");
      heap.safepoint();
    }  // each temp tree is dropped here
    std::printf("\tTop down construction took %.0f msec\n", timer.milliseconds());
  }
  {
    Stopwatch timer;
    for (long i = 0; i < iters; ++i) {
      typename H::Holder temp(heap, make_tree(heap, depth));
      if (i == iters - 1) check(count_nodes(temp.get()) == tree_size(depth), "bottom-up tree size");
      heap.safepoint();
    }
    std::printf("\tBottom up construction took %.0f msec\n", timer.milliseconds());
  }
}

// Runs GCBench on `heap`; returns the wall time in seconds.
template <class H>
double gcbench(H& heap) {
  using Node = typename H::Node;
  std::printf(" Live storage will peak at %ld bytes.\n\n",
              static_cast<long>(2 * sizeof(Node) * tree_size(kLongLivedTreeDepth) + sizeof(double) * kArraySize));
  std::printf(" Stretching memory with a binary tree of depth %d\n", kStretchTreeDepth);
  Stopwatch timer;
  {
    typename H::Holder stretch(heap, make_tree(heap, kStretchTreeDepth));
    check(count_nodes(stretch.get()) == tree_size(kStretchTreeDepth), "stretch tree size");
  }

  std::printf(" Creating a long-lived binary tree of depth %d\n", kLongLivedTreeDepth);
  typename H::LongLived long_lived(heap, heap.new_node());
  populate(heap, kLongLivedTreeDepth, long_lived.get());
  int index = 0;
  label<Node>(long_lived.get(), kLongLivedTreeDepth, index);

  std::printf(" Creating a long-lived array of %d doubles\n", kArraySize);
  typename H::Array array(heap, kArraySize);
  for (int i = 0; i < kArraySize / 2; ++i) array.data()[i] = 1.0 / i;

  for (int depth = kMinTreeDepth; depth <= kMaxTreeDepth; depth += 2) time_construction(heap, depth);

  // GCBench's own check, inside the timed region as in the original.
  check(long_lived.get() != nullptr && array.data()[1000] == 1.0 / 1000, "long-lived tree and array[1000]");
  const double seconds = timer.seconds();
  std::printf("Completed in %.0f msec\n", seconds * 1e3);

  // Thorough checks, outside the timed region.
  index = 0;
  check(count_nodes(long_lived.get()) == tree_size(kLongLivedTreeDepth), "long-lived tree size");
  check(check_labels<Node>(long_lived.get(), kLongLivedTreeDepth, index), "long-lived tree labels");
  bool array_ok = true;
  for (int i = 1; i < kArraySize; ++i) array_ok &= array.data()[i] == (i < kArraySize / 2 ? 1.0 / i : 0.0);
  check(array_ok, "long-lived array contents");
  return seconds;
}

tricolor_bench::Measured measured(double seconds) { return {seconds, total_allocations()}; }

}  // namespace

int main(int argc, char** argv) {
  using tricolor_bench::Measured;
  tricolor_bench::BenchProgram program{
      .name = "gcbench",
      .flags = {},
      .implementations =
          {
              {.name = "concurrent",
               .with_collector =
                   [](tricolor::Mutator& mutator) {
                     TricolorHeap heap{mutator};
                     return measured(gcbench(heap));
                   },
               .without_collector = {},
               .environment = {{"TRICOLOR_MODE", "concurrent"}}},
              {.name = "stw",
               .with_collector =
                   [](tricolor::Mutator& mutator) {
                     TricolorHeap heap{mutator};
                     return measured(gcbench(heap));
                   },
               .without_collector = {},
               .environment = {{"TRICOLOR_MODE", "stw"}}},
              {.name = "manual_mimalloc",
               .with_collector = {},
               .without_collector =
                   [] {
                     ManualHeap heap;
                     return measured(gcbench(heap));
                   }},
#ifdef TRICOLOR_BENCH_BOEHM
              // The Boehm GC peer (bench/peers/boehm), its own program.
              {.name = "boehm", .external_program = TRICOLOR_BENCH_BOEHM},
              {.name = "boehm_incremental", .external_program = TRICOLOR_BENCH_BOEHM},
#endif
          },
      .title = [](const std::string& impl) { return "Garbage Collector Test (GCBench), implementation " + impl; },
      .add_metrics =
          [](Metrics& metrics, const Measured& run) {
            set_metric(metrics, "allocations", static_cast<double>(run.operations));
          },
  };
  return tricolor_bench::bench_main(argc, argv, program);
}
