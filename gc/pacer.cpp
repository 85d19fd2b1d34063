// pacer.cpp — the heap goal (see pacer.h for the rules).
#include "pacer.h"

#include <algorithm>

#include "size_classes.h"

namespace tricolor::gc {

size_t heap_goal(const PacerInputs& in) {
  size_t goal = kNoHeapGoal;
  if (in.gc_percent >= 0) {
    const __uint128_t scaled = static_cast<__uint128_t>(in.live_bytes) * (100 + static_cast<__uint128_t>(in.gc_percent)) / 100;
    goal = scaled > SIZE_MAX ? kNoHeapGoal : static_cast<size_t>(scaled);
    goal = std::max(goal, in.min_heap_bytes);
  }
  if (in.memory_limit_bytes != INT64_MAX) {
    const auto limit = static_cast<size_t>(std::max<int64_t>(in.memory_limit_bytes, 0));
    const size_t limit_goal = limit > in.overhead_bytes ? limit - in.overhead_bytes : 0;
    const size_t headroom_floor = in.live_bytes + std::max(in.live_bytes / 16, kSpanBytes);
    goal = std::min(goal, std::max(limit_goal, headroom_floor));
  }
  return goal;
}

size_t retained_free_bytes(size_t goal_bytes, size_t in_use_bytes) {
  if (goal_bytes == kNoHeapGoal) return SIZE_MAX;
  const size_t target = goal_bytes + goal_bytes / 10;
  return target > in_use_bytes ? target - in_use_bytes : 0;
}

}  // namespace tricolor::gc
