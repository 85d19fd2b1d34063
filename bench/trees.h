// trees.h — the node plumbing the tree benchmarks (gcbench, binarytrees)
// share: a mimalloc-backed node for the manual_mimalloc implementations and a
// long-lived tree held by a global root for the tricolor ones. Each benchmark
// keeps its own node fields and algorithm.
#pragma once

#include <mimalloc.h>

#include <cstddef>
#include <new>
#include <tricolor/tricolor.h>

namespace tricolor_bench {

// Base of a manually managed node: new/delete routed to mi_malloc/mi_free.
// Empty, so it adds nothing to the node's size.
struct MimallocAllocated {
  static void* operator new(size_t bytes) {
    void* p = mi_malloc(bytes);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  static void operator delete(void* p) noexcept { mi_free(p); }
};

// A managed tree that lives to the end of the run: a Persistent (global) root.
// Constructed like the benchmarks' other tree holders, from (heap, root).
template <class Node>
class PersistentTree {
 public:
  template <class Heap>
  PersistentTree(Heap&, Node* root) : root_(root) {}
  Node* get() const { return root_.get(); }

 private:
  tricolor::Persistent<Node> root_;
};

}  // namespace tricolor_bench
