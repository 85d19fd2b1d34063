// pacer.cpp — the heap goal, the trigger, assists and the CPU limiter (see
// pacer.h for the rules and the reason behind each constant).
#include "pacer.h"

#include <algorithm>
#include <cmath>

#include "size_classes.h"

namespace tricolor::gc {
namespace {

// Saturating conversion: a double past SIZE_MAX (or NaN) is no goal at all.
size_t to_bytes(double bytes) {
  if (!(bytes >= 0)) return 0;
  if (bytes >= static_cast<double>(SIZE_MAX)) return SIZE_MAX;
  return static_cast<size_t>(bytes);
}

size_t limit_goal_bytes(const PacerSettings& s) {
  if (s.memory_limit_bytes == INT64_MAX) return kNoHeapGoal;
  const auto limit = static_cast<size_t>(std::max<int64_t>(s.memory_limit_bytes, 0));
  return limit > s.overhead_bytes ? limit - s.overhead_bytes : 0;
}

}  // namespace

// ---------------------------------------------------------------- heap goal

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

// ---------------------------------------------------------------- growth estimate

double growth_per_scan_byte_sample(const MarkResult& mark) {
  const size_t scanned = mark.scanned_bytes != 0 ? mark.scanned_bytes : mark.live_bytes;
  if (scanned == 0) return 0;
  const size_t allocated = mark.heap_at_mark_end_bytes > mark.heap_at_mark_start_bytes
                               ? mark.heap_at_mark_end_bytes - mark.heap_at_mark_start_bytes
                               : 0;
  const double raw = static_cast<double>(allocated) / static_cast<double>(scanned);
  if (mark.mutator_cpu_ns == 0 || mark.background_cpu_ns == 0) return raw;
  // cons/mark = (allocated / mutator CPU) / (scanned / GC CPU); at the
  // background pace the mutators run mutator + assist CPU for every
  // background CPU the GC takes.
  const auto mutator = static_cast<double>(mark.mutator_cpu_ns);
  const auto assist = static_cast<double>(mark.assist_cpu_ns);
  const auto background = static_cast<double>(mark.background_cpu_ns);
  return raw * ((assist + background) / mutator) * ((mutator + assist) / background);
}

// ---------------------------------------------------------------- the pacer

Pacer::Pacer(PacerSettings settings, PacerTuning tuning) : settings_(settings), tuning_(tuning) { recompute(); }

void Pacer::set_settings(const PacerSettings& settings) {
  settings_ = settings;
  recompute();
}

void Pacer::end_mark(const MarkResult& mark) {
  const size_t scanned = mark.scanned_bytes != 0 ? mark.scanned_bytes : mark.live_bytes;
  if (scanned != 0) {  // an empty mark teaches nothing about growth
    const double sample = growth_per_scan_byte_sample(mark);
    const double weight = tuning_.growth_ewma_weight;
    growth_per_scan_byte_ = has_history_ ? weight * sample + (1 - weight) * growth_per_scan_byte_ : sample;
    has_history_ = true;
  }
  live_bytes_ = mark.live_bytes;
  expected_scan_bytes_ = scanned;
  recompute();
}

void Pacer::set_live_bytes(size_t live_bytes) {
  live_bytes_ = live_bytes;
  expected_scan_bytes_ = live_bytes;
  recompute();
}

size_t Pacer::expected_mark_growth_bytes() const {
  return to_bytes(growth_per_scan_byte_ * static_cast<double>(expected_scan_bytes_));
}

// trigger = goal − expected growth × margin, inside [70 %, 95 %] of the runway.
void Pacer::recompute() {
  goal_bytes_ = heap_goal(PacerInputs{live_bytes_, settings_.gc_percent, settings_.memory_limit_bytes,
                                      settings_.min_heap_bytes, settings_.overhead_bytes});
  if (goal_bytes_ == kNoHeapGoal) {
    trigger_bytes_ = kNoHeapGoal;
    return;
  }
  const double live = static_cast<double>(live_bytes_);
  const double runway = goal_bytes_ > live_bytes_ ? static_cast<double>(goal_bytes_ - live_bytes_) : 0.0;
  if (!has_history_) {
    trigger_bytes_ = to_bytes(live + runway * tuning_.first_trigger_runway_fraction);
    return;
  }
  const double growth = growth_per_scan_byte_ * static_cast<double>(expected_scan_bytes_);
  const double wanted = static_cast<double>(goal_bytes_) - growth * tuning_.trigger_safety_margin;
  const double lowest = live + runway * tuning_.min_trigger_runway_fraction;
  const double highest = live + runway * tuning_.max_trigger_runway_fraction;
  trigger_bytes_ = std::min(to_bytes(std::max(lowest, std::min(wanted, highest))), goal_bytes_);
}

size_t Pacer::hard_goal_bytes() const {
  if (goal_bytes_ == kNoHeapGoal) return kNoHeapGoal;
  size_t hard = to_bytes(static_cast<double>(goal_bytes_) * kHardGoalOvershoot);
  const size_t limit_goal = limit_goal_bytes(settings_);
  // A limit above the goal bounds the overshoot; a goal already at (or, for
  // headroom, above) the limit gets none.
  if (limit_goal != kNoHeapGoal) hard = goal_bytes_ < limit_goal ? std::min(hard, limit_goal) : goal_bytes_;
  return std::max(hard, goal_bytes_);
}

double Pacer::assist_work_per_byte() const {
  if (goal_bytes_ == kNoHeapGoal) return 0;
  const size_t runway = std::max(goal_bytes_ > trigger_bytes_ ? goal_bytes_ - trigger_bytes_ : 0, kMinAssistRunwayBytes);
  return static_cast<double>(expected_scan_bytes_) / static_cast<double>(runway);
}

MarkPlan Pacer::plan_mark(size_t heap_at_mark_start_bytes) const {
  return MarkPlan{goal_bytes_, hard_goal_bytes(), expected_scan_bytes_, heap_at_mark_start_bytes,
                  settings_.memory_limit_bytes != INT64_MAX};
}

double MarkPlan::assist_work_per_byte_at(size_t heap_live_bytes, size_t scan_done_bytes) const {
  if (goal_bytes == kNoHeapGoal) return 0;
  double goal = static_cast<double>(goal_bytes);
  const double hard_goal = static_cast<double>(hard_goal_bytes);
  const double heap_start = static_cast<double>(heap_at_mark_start_bytes);
  double expected = static_cast<double>(expected_scan_bytes);
  const double worst = std::max(heap_start, expected);  // all of the heap at mark start is live
  const double done = static_cast<double>(scan_done_bytes);
  if (done >= expected && expected < worst) {
    // More work than expected: the live heap grew. Stretch the runway planned
    // for the expected work in proportion to the worst case, up to the hard
    // goal, so that assists stay flat while the heap grows.
    const double planned_runway = std::max(goal - heap_start, 0.0);
    const double stretched = heap_start + planned_runway * worst / std::max(expected, 1.0);
    goal = std::max(goal, std::min(stretched, hard_goal));
    expected = worst;
  }
  const double heap = static_cast<double>(heap_live_bytes);
  if (heap >= goal) {  // past even that: finish by the hard goal at worst
    goal = hard_goal;
    expected = worst;
  }
  const double remaining = std::max(expected - done, static_cast<double>(kMinAssistWorkBytes));
  const double distance = std::max(goal - heap, 1.0);  // past the hard goal: assist all the way
  return remaining / distance;
}

// ---------------------------------------------------------------- CPU limiter

CpuLimiter::CpuLimiter(unsigned cores, uint64_t window_ns)
    : cores_(std::max(cores, 1u)), window_ns_(window_ns), capacity_ns_(uint64_t{cores_} * window_ns) {}

void CpuLimiter::set_cores(unsigned cores) {
  cores_ = std::max(cores, 1u);
  capacity_ns_ = uint64_t{cores_} * window_ns_;
  fill_ns_ = std::min(fill_ns_, capacity_ns_);
  limiting_ = limiting_ && fill_ns_ + capacity_ns_ / kCpuLimiterReleaseDivisor > capacity_ns_;
}

void CpuLimiter::update(uint64_t now_ns, uint64_t gc_cpu_ns, uint64_t mutator_cpu_ns) {
  if (updated_ && now_ns > last_update_ns_) {
    // The cores cannot have given more than this; overlapping measurements
    // are scaled down together, keeping their ratio.
    const __uint128_t available = static_cast<__uint128_t>(now_ns - last_update_ns_) * cores_;
    const __uint128_t used = static_cast<__uint128_t>(gc_cpu_ns) + mutator_cpu_ns;
    if (used > available) {
      const auto gc_scaled = static_cast<uint64_t>(static_cast<__uint128_t>(gc_cpu_ns) * available / used);
      mutator_cpu_ns = static_cast<uint64_t>(available - gc_scaled);
      gc_cpu_ns = gc_scaled;
    }
  }
  if (!updated_ || now_ns > last_update_ns_) last_update_ns_ = now_ns;
  updated_ = true;
  accumulate(gc_cpu_ns, mutator_cpu_ns);
}

void CpuLimiter::update_assuming_busy_cores(uint64_t now_ns, uint64_t gc_cpu_ns) {
  const uint64_t elapsed_ns = updated_ && now_ns > last_update_ns_ ? now_ns - last_update_ns_ : 0;
  const __uint128_t available = static_cast<__uint128_t>(elapsed_ns) * cores_;
  const uint64_t mutator_cpu_ns = available > gc_cpu_ns ? static_cast<uint64_t>(available - gc_cpu_ns) : 0;
  update(now_ns, gc_cpu_ns, mutator_cpu_ns);
}

// GC time fills the bucket, mutator time drains it: the fill rises only while
// the GC takes more than half of the CPU used. Full: limiting, until drained
// by the release band.
void CpuLimiter::accumulate(uint64_t gc_cpu_ns, uint64_t mutator_cpu_ns) {
  if (gc_cpu_ns >= mutator_cpu_ns) {
    const uint64_t rise = gc_cpu_ns - mutator_cpu_ns;
    const uint64_t headroom = capacity_ns_ - fill_ns_;
    if (rise >= headroom) {
      overflow_ns_ += rise - headroom;
      fill_ns_ = capacity_ns_;
      limiting_ = true;
    } else {
      fill_ns_ += rise;
    }
  } else {
    const uint64_t drain = mutator_cpu_ns - gc_cpu_ns;
    fill_ns_ = drain >= fill_ns_ ? 0 : fill_ns_ - drain;
    if (fill_ns_ + capacity_ns_ / kCpuLimiterReleaseDivisor <= capacity_ns_) limiting_ = false;
  }
}

bool CpuLimiter::needs_update(uint64_t now_ns, uint64_t period_ns) const {
  return !updated_ || (now_ns > last_update_ns_ && now_ns - last_update_ns_ >= period_ns);
}

}  // namespace tricolor::gc
