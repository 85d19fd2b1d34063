// verifier.h — the heap verifier (TRICOLOR_VERIFY=1).
//
// Owns: an independent walk of the object graph from every root, with its own
// visited set (it never writes mark bits), run with the world stopped. Every
// object it reaches must carry a valid header and be
//  - marked, when run at the end of a concurrent mark (verify_marks): an
//    unmarked reachable object is one the sweep would free — a missing
//    barrier, trace or root;
//  - allocated, when run after a stop-the-world sweep (verify_heap).
// On a violation it stops the process printing the path
// root → … → parent type → child type.
// Invariant it checks: no object reachable from the roots is ever freed.
#pragma once

#include <cstddef>

namespace tricolor::gc {

class Collector;

struct VerifyResult {
  size_t objects = 0;   // reachable objects walked
  size_t pointers = 0;  // edges followed
};

// World stopped, after sweeping. Aborts on the first lost or corrupt object.
VerifyResult verify_heap(Collector& collector);
// World stopped, mark complete, before sweeping. Aborts on the first
// reachable object left unmarked.
VerifyResult verify_marks(Collector& collector);

}  // namespace tricolor::gc
