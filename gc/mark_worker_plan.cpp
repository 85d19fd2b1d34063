// mark_worker_plan.cpp — the sizing rule of mark_worker_plan.h.
#include "mark_worker_plan.h"

#include <algorithm>
#include <cmath>

namespace tricolor::gc {

MarkWorkerPlan plan_mark_workers(unsigned cores, unsigned dedicated_override, int idle_override) {
  cores = std::max(1u, cores);
  MarkWorkerPlan plan;
  if (dedicated_override != 0) {
    plan.dedicated = dedicated_override;
  } else {
    const double goal = cores * kBackgroundMarkShare;
    plan.dedicated = static_cast<unsigned>(goal + 0.5);
    const double error = plan.dedicated / goal - 1.0;
    if (std::abs(error) > 0.3) {  // rounding is off: a fractional marker carries the rest
      if (plan.dedicated > goal) --plan.dedicated;
      plan.fractional = goal - plan.dedicated;
    }
  }
  const unsigned planned = plan.dedicated + (plan.fractional > 0.0 ? 1u : 0u);
  const unsigned spare = cores > planned ? cores - planned : 0u;
  plan.idle = idle_override < 0 ? spare : std::min(spare, static_cast<unsigned>(idle_override));
  return plan;
}

unsigned spare_cores_for_idle(unsigned cores, size_t running_mutators, const MarkWorkerPlan& plan,
                              bool fractional_marking) {
  const size_t taken = running_mutators + plan.dedicated + (plan.fractional > 0.0 && fractional_marking ? 1 : 0);
  const size_t available = std::max(1u, cores);
  if (taken >= available) return 0;
  return static_cast<unsigned>(std::min<size_t>(plan.idle, available - taken));
}

}  // namespace tricolor::gc
