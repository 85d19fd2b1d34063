// mark_worker_plan.h — how many background markers a mark runs, and of which kind.
//
// Owns: the pure sizing rule (Go's, runtime/mgcpacer.go): background marking
// aims at 25 % of the machine's cores. A whole number of those run as
// dedicated markers; when rounding would miss the 25 % by more than 30 %, the
// rest is a fractional marker that marks only that share of one thread's
// time; the cores left over run idle markers, which mark only while the
// process leaves a core idle (spare_cores_for_idle). Invariant: dedicated + fractional is within 30 %
// of the 25 % goal (exactly it when fractional > 0), and the idle markers
// marking never outnumber the cores the mutators and the other markers leave.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tricolor::gc {

// Go's gcBackgroundUtilization.
inline constexpr double kBackgroundMarkShare = 0.25;

struct MarkWorkerPlan {
  unsigned dedicated = 1;   // full-time markers, the collector's own thread first
  double fractional = 0.0;  // share of one thread's time (0 to 1) for the fractional marker
  unsigned idle = 0;        // markers at idle priority
};

// `cores`: the machine's; `dedicated_override` 0 = auto, else that many
// dedicated markers and no fractional one; `idle_override` < 0 = auto.
MarkWorkerPlan plan_mark_workers(unsigned cores, unsigned dedicated_override, int idle_override);

// How many idle markers may mark while `running_mutators` mutators run (Go's
// idle Ps): the whole cores that neither the mutators nor the dedicated
// markers take, nor the fractional marker while it is in a slice
// (`fractional_marking`). Between its slices the fractional marker's core is
// spare, as Go's fractional P runs idle marking when it rests; during them
// it is not, so that collector threads never outnumber the cores the
// mutators leave (one more would be preempting a mutator).
unsigned spare_cores_for_idle(unsigned cores, size_t running_mutators, const MarkWorkerPlan& plan,
                              bool fractional_marking);

// The fractional marker's budget: its mark CPU stays at `share` of the wall
// time since the mark started (Go's fractionalUtilizationGoal). It marks in
// short slices and, when ahead of its share, rests for rest_ns().
class FractionalShare {
 public:
  explicit FractionalShare(double share) : share_(share) {}
  void start(uint64_t wall_ns) {
    started_ns_ = wall_ns;
    cpu_ns_ = 0;
  }
  void add_cpu(uint64_t ns) { cpu_ns_ += ns; }
  // How long to rest before the next slice keeps the share (0: mark now).
  uint64_t rest_ns(uint64_t wall_ns) const {
    const double allowed = share_ * static_cast<double>(wall_ns - started_ns_);
    const double over = static_cast<double>(cpu_ns_) - allowed;
    return over > 0.0 ? static_cast<uint64_t>(over / share_) : 0;
  }
  double share() const { return share_; }

 private:
  double share_;
  uint64_t started_ns_ = 0;
  uint64_t cpu_ns_ = 0;
};

// How long a pool marker waits before it looks again when it found nothing
// to do (an idle marker with no spare core, or any marker out of mark work):
// `first_us`, then twice as long each time it finds nothing again, up to
// `max_us`; back to `first_us` once it marks. A marker that looked every
// 200 µs was woken 20 K times in a 15 s stw_assign run, and on a machine
// whose cores the mutators fill each wake-up preempts a mutator
// (bench/RESULTS.md, stop 13).
class RecheckBackoff {
 public:
  RecheckBackoff(uint64_t first_us, uint64_t max_us) : first_us_(first_us), max_us_(max_us), next_us_(first_us) {}
  // The wait before the next look, and doubles the one after it.
  uint64_t next_wait_us() {
    const uint64_t wait = next_us_;
    next_us_ = next_us_ >= max_us_ / 2 ? max_us_ : next_us_ * 2;
    return wait;
  }
  void reset() { next_us_ = first_us_; }

 private:
  uint64_t first_us_;
  uint64_t max_us_;
  uint64_t next_us_;
};

}  // namespace tricolor::gc
