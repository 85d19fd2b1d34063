// verifier.h — the heap verifier (TRICOLOR_VERIFY=1).
//
// Owns: an independent walk of the object graph from every root, with its own
// visited set (it never reads or writes mark bits), run with the world stopped
// at the end of a cycle. Every object it reaches must still be allocated and
// carry a valid header; otherwise the collector lost a reachable object (a
// missing barrier, a missing trace, a missing root), and the verifier stops
// the process printing the path root → … → parent type → child type.
// Invariant it checks: no object reachable from the roots is ever freed.
#pragma once

#include <cstddef>

namespace tricolor::gc {

class Collector;

struct VerifyResult {
  size_t objects = 0;   // reachable objects walked
  size_t pointers = 0;  // edges followed
};

// World stopped. Aborts with a path on the first lost or corrupt object.
VerifyResult verify_heap(Collector& collector);

}  // namespace tricolor::gc
