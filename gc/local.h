// local.h — Local<T>: a scoped root for C++ code that holds a managed pointer
// across something that may collect (an allocation, a safepoint).
//
// Owns: the typed handle over the mutator's chain of LocalRootNodes. A raw
// T* in a C++ local variable is not a root: after the next allocation or
// safepoint its target may be gone. Wrap it: `Local<Node> n(m, make<Node>(m));`
// Invariant: Locals of one mutator are destroyed in reverse order of creation
// (they live in C++ scopes); checked builds abort with a message otherwise.
// Cost: two stores to create, one to destroy.
#pragma once

#include "errors.h"
#include "mutator.h"

namespace tricolor {

template <class T>
class Local {
 public:
  explicit Local(Mutator& mutator, T* object = nullptr)
      : mutator_(mutator), node_{object, mutator.local_roots()} {
    if constexpr (kChecked) mutator.check_thread("Local");
    mutator.local_roots() = &node_;
  }
  Local(const Local&) = delete;
  Local& operator=(const Local&) = delete;
  ~Local() {
    if constexpr (kChecked) {
      if (mutator_.local_roots() != &node_)
        gc::fatal("Local handles destroyed out of order (they must live in nested C++ scopes)");
    }
    mutator_.local_roots() = node_.previous;
  }

  Local& operator=(T* object) {
    node_.object = object;
    return *this;
  }
  T* get() const { return static_cast<T*>(const_cast<void*>(node_.object)); }
  T* operator->() const { return get(); }
  T& operator*() const { return *get(); }
  operator T*() const { return get(); }  // NOLINT(google-explicit-constructor)

 private:
  Mutator& mutator_;
  LocalRootNode node_;
};

}  // namespace tricolor
