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
// Also, for a deterministic phase driver (tests that step a concurrent cycle,
// tests/gc/cycle_stepper.h), a check of the hybrid barrier's colour invariant
// callable between any two steps (verify_colours).
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
// During a concurrent mark, between two steps of a stepped cycle (no marker
// running, the caller the only thread touching the heap). Grey = marked and
// in a full packet of the mark queue or in a mutator's barrier buffer;
// black = marked and not grey. On everything reachable it checks:
//  - no black object points to a white one (what the insertion half keeps);
//  - a black object's ephemeron with a key has its key and value marked, or
//    waits among the pending ephemerons;
//  - a scanned root (global roots after mark_global_roots, a mutator's after
//    its roots handshake) points to a marked object or to a white one still
//    reachable from a grey object or an unscanned root through white objects
//    (Go's weak invariant for black stacks, what the deletion half keeps);
//  - every marked object is allocated.
// Outside a mark it checks nothing colour-related (everything is white).
VerifyResult verify_colours(Collector& collector);

}  // namespace tricolor::gc
