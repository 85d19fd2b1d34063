// pacer.h — when to collect: the heap goal (GOGC, GOMEMLIMIT, minimum heap).
//
// Owns: the pure arithmetic of the heap goal, kept free of clocks and threads
// so that it is tested as a deterministic function.
// Rules (Go's, see DESIGN.md §4):
//  - goal = live × (1 + GOGC/100), at least the minimum heap (TRICOLOR_MIN_HEAP,
//    Go's 4 MiB × GOGC/100 floor simplified to a fixed floor).
//  - GOMEMLIMIT is a soft limit: the goal is capped at limit − non-heap memory
//    (metadata). When live itself is near the limit the goal keeps a headroom
//    of live/16 (at least one span) so that a too-small limit makes collections
//    frequent rather than continuous; the concurrent collector's CPU limiter
//    refines this.
//  - GOGC=off without a limit: no goal (never collect on heap growth).
//  - GOGC=off with a limit: collect only near the limit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tricolor::gc {

inline constexpr size_t kNoHeapGoal = SIZE_MAX;

struct PacerInputs {
  size_t live_bytes;          // marked at the end of the last cycle
  int gc_percent;             // < 0: off
  int64_t memory_limit_bytes; // INT64_MAX: off
  size_t min_heap_bytes;
  size_t overhead_bytes;      // memory the heap limit also pays for (metadata)
};

size_t heap_goal(const PacerInputs& in);

// How many bytes of empty, committed spans to keep after a cycle (the rest
// goes back to the OS): enough to grow to the goal plus 10 % (Go's scavenger
// retains the same margin) without faulting pages back in, given
// `in_use_bytes` of spans and large objects that hold live objects.
size_t retained_free_bytes(size_t goal_bytes, size_t in_use_bytes);

}  // namespace tricolor::gc
