// collector.cpp — the concurrent and the stop-the-world cycle (see
// collector.h for the order of the steps and the invariant they keep).
#include "collector.h"

#include <algorithm>

#include "barrier.h"
#include "cpu_time.h"
#include "marker.h"
#include "mutator.h"
#include "roots.h"
#include "verifier.h"

namespace tricolor::gc {
namespace {

std::atomic<Collector*> g_current_collector{nullptr};

}  // namespace

Collector* Collector::current() { return g_current_collector.load(std::memory_order_acquire); }

namespace {
unsigned machine_cores() { return std::max(1u, std::thread::hardware_concurrency()); }
// The whole plan of background markers; the driver is not in the pool.
MarkWorkerPlan plan_for(const GcConfig& config) {
  if (!config.background_driver || config.mode != CollectorMode::kConcurrent) return MarkWorkerPlan{};
  return plan_mark_workers(machine_cores(), config.mark_workers, config.idle_mark_workers);
}
// The pool: the plan without the driver, which is the first dedicated
// marker, or the fractional one when no core is dedicated.
MarkWorkerPlan pool_of(const MarkWorkerPlan& plan) {
  MarkWorkerPlan pool = plan;
  if (plan.dedicated != 0) --pool.dedicated;
  else pool.fractional = 0.0;
  return pool;
}
}  // namespace

Collector::Collector(GcConfig config)
    : config_(std::move(config)),
      mark_shared_(std::make_unique<MarkShared>()),
      plan_(plan_for(config_)),
      driver_share_(plan_.dedicated == 0 ? plan_.fractional : 0.0),
      workers_(
          heap_, pool_of(plan_), [this] { return try_run_deferred_slice(); },
          [this] { return spare_cores_for_idle(cores_, world_.running(), plan_, workers_.fractional_marking()); }) {
  {
    std::lock_guard lock(stats_mutex_);
    recompute_goal_locked();
  }
  heap_.set_provisioner(&provisioner_);
  world_.set_pause_recorder([this](uint64_t ttsp, uint64_t pause) { record_mutator_pause(ttsp, pause); });
  world_.set_registration_hook([this](Mutator& m) {
    if (phase_.load(std::memory_order_seq_cst) != Phase::kMark) return;
    m.set_allocate_black(true, mark_epoch_);
    m.set_roots_scanned(true);  // it has no roots yet; what it loads later is barriered
  });
  g_current_collector.store(this, std::memory_order_release);
  if (config_.background_driver) driver_ = std::thread([this] { driver_main(); });
}

Collector::~Collector() {
  if (driver_.joinable()) {
    {
      std::lock_guard lock(driver_mutex_);
      shutting_down_ = true;
    }
    driver_wakeup_.notify_all();
    driver_.join();
  }
  g_current_collector.store(nullptr, std::memory_order_release);
}

uint64_t Collector::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - created_)
      .count();
}

// ---------------------------------------------------------------- pacing

void Collector::recompute_goal_locked() {
  pacer_.set_settings(PacerSettings{config_.gc_percent, config_.memory_limit_bytes, config_.min_heap_bytes,
                                    heap_.counters().metadata_bytes});
  const size_t goal = pacer_.goal_bytes();
  stats_.heap_goal_bytes = goal;
  const size_t trigger = config_.mode == CollectorMode::kConcurrent ? pacer_.trigger_bytes() : goal;
  // While a concurrent cycle runs, no new one may be requested.
  if (phase_.load(std::memory_order_relaxed) != Phase::kMark) trigger_bytes_.store(trigger, std::memory_order_relaxed);
}

int Collector::set_gc_percent(int percent) {
  std::lock_guard lock(stats_mutex_);
  const int previous = config_.gc_percent;
  config_.gc_percent = percent < 0 ? -1 : percent;
  recompute_goal_locked();
  return previous;
}

int64_t Collector::set_memory_limit(int64_t bytes) {
  std::lock_guard lock(stats_mutex_);
  const int64_t previous = config_.memory_limit_bytes;
  config_.memory_limit_bytes = bytes < 0 ? 0 : bytes;
  recompute_goal_locked();
  return previous;
}

// ---------------------------------------------------------------- requests

void Collector::collect(Mutator* self, CycleReason reason) {
  if (config_.mode == CollectorMode::kStw) return run_stw_cycle(self, reason);
  uint64_t target;
  {
    std::lock_guard lock(driver_mutex_);
    target = cycles_started_ + 1;  // a cycle that starts after this call
    cycle_requested_ = true;
    if (reason == CycleReason::kExplicit) requested_reason_ = reason;
  }
  driver_wakeup_.notify_one();
  // Blocked while waiting: handshakes are done on our behalf, stops skip us.
  if (self != nullptr) self->enter_blocking();
  {
    std::unique_lock lock(driver_mutex_);
    cycle_done_.wait(lock, [&] { return cycles_completed_ >= target; });
  }
  if (self != nullptr) self->leave_blocking();
}

void Collector::start_cycle_for(Mutator& self) {
  if (config_.mode == CollectorMode::kStw) return run_stw_cycle(&self, CycleReason::kHeapGoal);
  request_cycle(CycleReason::kHeapGoal);
}

void Collector::enforce_hard_limit(Mutator& self, size_t bytes) {
  if (heap_.heap_live_bytes() + bytes <= config_.hard_limit_bytes) return;
  collect(&self, CycleReason::kEmergency);
  const size_t live = heap_.heap_live_bytes();
  if (live + bytes <= config_.hard_limit_bytes) return;
  throw HeapExhausted("tricolor: heap hard limit reached (TRICOLOR_HARD_LIMIT=" +
                      std::to_string(config_.hard_limit_bytes) + " bytes): " + std::to_string(live) +
                      " bytes live after an emergency collection, " + std::to_string(bytes) +
                      " more requested; the allocation was refused and the heap is unchanged");
}

namespace {
// The stress modes' random source: per thread, seeded from the configured
// seed and a per-thread counter, so a run is replayable in distribution.
uint64_t stress_random(uint64_t seed) {
  static std::atomic<uint64_t> threads{0};
  thread_local uint64_t state = 0;
  if (state == 0) state = (seed ^ (threads.fetch_add(1) + 1) * 0x9e3779b97f4a7c15ull) | 1;
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}
}  // namespace

void Collector::stress_on_allocation(Mutator& self) {
  if (config_.stress_alloc_bytes != 0) {
    size_t next = next_stress_cycle_bytes_.load(std::memory_order_relaxed);
    if (heap_.allocated_total_bytes() >= next &&
        next_stress_cycle_bytes_.compare_exchange_strong(next, next + config_.stress_alloc_bytes)) {
      if (config_.mode == CollectorMode::kStw) run_stw_cycle(&self, CycleReason::kStress);
      else request_cycle(CycleReason::kStress);
    }
  }
  if (config_.stress_seed != 0 && stress_random(config_.stress_seed) % 64 == 0) {
    if (config_.mode == CollectorMode::kStw) run_stw_cycle(&self, CycleReason::kStress);
    else request_cycle(CycleReason::kStress);
  }
}

void Collector::stress_delay() {
  const uint64_t roll = stress_random(config_.stress_seed) % 16;
  if (roll == 0) std::this_thread::sleep_for(std::chrono::microseconds(roll + 50));
  else if (roll < 4) std::this_thread::yield();
}

void Collector::request_cycle(CycleReason reason) {
  trigger_bytes_.store(SIZE_MAX, std::memory_order_relaxed);  // one request per cycle
  {
    std::lock_guard lock(driver_mutex_);
    cycle_requested_ = true;
    if (reason == CycleReason::kExplicit) requested_reason_ = reason;
  }
  driver_wakeup_.notify_one();
}

void Collector::driver_main() {
  timeline_.name_thread("tricolor-gc");
  std::unique_lock lock(driver_mutex_);
  for (;;) {
    driver_wakeup_.wait(lock, [&] { return cycle_requested_ || shutting_down_ || deferred_.size() != 0; });
    if (shutting_down_) return;
    if (!cycle_requested_) {  // idle: deferred work
      lock.unlock();
      run_deferred_slice();
      lock.lock();
      continue;
    }
    const CycleReason reason = requested_reason_;
    cycle_requested_ = false;
    requested_reason_ = CycleReason::kHeapGoal;
    ++cycles_started_;
    lock.unlock();
    run_concurrent_cycle(reason);
    lock.lock();
    ++cycles_completed_;
    cycle_done_.notify_all();
  }
}

// ---------------------------------------------------------------- concurrent cycle

bool Collector::run_deferred_slice() {
  std::lock_guard lock(deferred_run_mutex_);
  if (deferred_.size() == 0) return false;
  Timeline::Scope span(timeline_, "deferred work", "gc.deferred");
  return deferred_.run_one(kDeferredSliceNs);
}

bool Collector::try_run_deferred_slice() {
  if (deferred_.size() == 0) return false;
  std::unique_lock lock(deferred_run_mutex_, std::try_to_lock);
  if (!lock.owns_lock() || deferred_.size() == 0) return false;
  Timeline::Scope span(timeline_, "deferred work", "gc.deferred");
  return deferred_.run_one(kDeferredSliceNs);
}

// Queued during a mark, after the roots were traced: shade what it holds.
void Collector::shade_if_marking(const DeferredWork& item) {
  if (phase_.load(std::memory_order_acquire) != Phase::kMark) return;
  std::lock_guard lock(foreign_shade_mutex_);
  if (phase_.load(std::memory_order_acquire) == Phase::kMark) {
    Marker marker(heap_, *mark_shared_, /*exclusive=*/false);
    item.trace(marker);
    marker.publish();
  }
}

void Collector::prefault(std::shared_ptr<DeferredWork> job) {
  shade_if_marking(*job);
  provisioner_.submit(std::move(job));
}

void Collector::defer(std::shared_ptr<DeferredWork> item) {
  shade_if_marking(*item);
  deferred_.push(std::move(item));
  driver_wakeup_.notify_one();
}

void Collector::run_concurrent_cycle(CycleReason reason) {
  Timeline::Scope span(timeline_, "cycle", "gc");
  begin_mark(nullptr, reason);
  mark_global_roots();
  scan_mutator_roots(nullptr);
  // With no core to dedicate, the driver is the fractional marker: it marks
  // in slices and rests to keep its share of one thread's time.
  FractionalShare share(driver_share_ > 0.0 ? driver_share_ : 1.0);
  share.start(mark_started_ns_);
  const bool fractional = driver_share_ > 0.0;
  for (;;) {
    if (fractional) {
      const uint64_t rest = share.rest_ns(now_ns());
      if (rest != 0) {
        workers_.set_fractional_marking(false);
        std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<uint64_t>(rest, 1'000'000)));
        continue;
      }
      workers_.set_fractional_marking(true);
    }
    const uint64_t cpu_before = cycle_.background_cpu_ns;
    const bool out_of_work = drain_background(driver_share_ > 0.0 ? kFractionalSliceObjects : SIZE_MAX);
    share.add_cpu(cycle_.background_cpu_ns - cpu_before);
    if (!out_of_work) continue;
    if (resolve_ephemerons(*background_marker_) != 0) continue;
    update_cpu_limiter();
    if (!mark_looks_complete()) {
      // Mark work runs dry here while another marker holds some: deferred
      // work, or give the CPU to the others rather than spin.
      if (!run_deferred_slice()) {
        if (fractional) workers_.set_fractional_marking(false);
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
      continue;
    }
    if (try_end_mark(nullptr)) break;
  }
  if (fractional) workers_.set_fractional_marking(false);
  sweep_and_finish();
}

void Collector::begin_mark(Mutator* self, CycleReason reason) {
  cycle_ = CycleReport{};
  cycle_.reason = reason;
  cycle_.concurrent = true;
  cycle_.start_ns = now_ns();
  trigger_bytes_.store(SIZE_MAX, std::memory_order_relaxed);
  heap_.finish_sweep();  // the previous cycle's, normally done already
  cycle_.heap_before_bytes = heap_.heap_live_bytes();
  released_before_ = heap_.counters().released_total_bytes;
  mark_shared_->reset();

  // Start of the mark, without a global pause: the barrier goes on for all
  // (one flag), then a handshake has every mutator allocate black. No object
  // is traced before every mutator has answered, so no unbarriered store can
  // hide an object from a marker (a grey object is still traced later).
  const uint32_t epoch = heap_.sweep_generation();
  mark_epoch_ = epoch;
  {
    // The mark's pacing, published before the phase flips (assists read it
    // after an acquire load of the phase).
    std::lock_guard lock(stats_mutex_);
    mark_plan_ = pacer_.plan_mark(heap_.heap_live_bytes());
  }
  closing_.store(false, std::memory_order_seq_cst);
  global_roots_scanned_ = false;
  phase_.store(Phase::kMark, std::memory_order_seq_cst);
  g_weak_read_check.store(true, std::memory_order_seq_cst);
  g_barrier_enabled.store(true, std::memory_order_seq_cst);
  const uint64_t start_handshake = now_ns();
  world_.handshake(
      [epoch](Mutator& m) {
        m.set_allocate_black(true, epoch);
        m.set_roots_scanned(false);
        m.take_black_allocated_bytes();
        m.assist_debt_objects() = 0;
        m.deferred_debt_objects() = 0;
      },
      self);
  cycle_.start_handshake_ns = now_ns() - start_handshake;
  timeline_.span("start handshake", "gc.phase", start_handshake, start_handshake + cycle_.start_handshake_ns);
  mark_started_ns_ = now_ns();
  mark_started_process_cpu_ns_ = process_cpu_ns();
  update_cpu_limiter();
  workers_.start_mark(*mark_shared_);
  background_marker_ = std::make_unique<Marker>(heap_, *mark_shared_, /*exclusive=*/false);
}

void Collector::mark_global_roots() {
  Timeline::Scope span(timeline_, "global roots", "gc.phase");
  global_roots().trace_strong(*background_marker_);
  deferred_.trace(*background_marker_);
  provisioner_.trace(*background_marker_);
  background_marker_->publish();
  global_roots_scanned_ = true;
}

void Collector::scan_mutator_roots(Mutator* self) {
  Timeline::Scope span(timeline_, "roots handshake", "gc.phase");
  world_.handshake(
      [this](Mutator& m) {
        Timeline::Scope own_span(timeline_, "handshake: roots", "gc.handshake");
        stress_point();
        Marker own(heap_, *mark_shared_, /*exclusive=*/false);
        m.scan_roots(own);
        m.set_roots_scanned(true);
        m.drain_barrier_buffer([&](const void* grey) { own.adopt_grey(grey); });
        own.publish();
      },
      self);
}

bool Collector::drain_background(size_t budget_objects) {
  Timeline::Scope span(timeline_, "mark", "gc.mark");
  const uint64_t cpu_started = thread_cpu_ns();
  if (config_.stress_seed != 0) {  // stress: mark in small random steps, yielding between them
    budget_objects = std::min<size_t>(budget_objects, 1 + stress_random(config_.stress_seed) % 4096);
    stress_point();
  }
  const bool out_of_work = background_marker_->drain_as_background(budget_objects);
  if (!out_of_work) background_marker_->publish();
  cycle_.background_cpu_ns += thread_cpu_ns() - cpu_started;
  return out_of_work;
}

void Collector::flush_barrier_buffers(Mutator* self) {
  Timeline::Scope span(timeline_, "flush handshake", "gc.phase");
  world_.handshake(
      [this](Mutator& m) {
        Timeline::Scope own_span(timeline_, "handshake: flush", "gc.handshake");
        stress_point();
        if (m.barrier_buffer_entries() != 0) publish_buffered(m);
      },
      self);
}

// Ragged mark termination (no global pause). A round: note how many objects
// were ever turned grey, have every mutator hand over its buffered greys,
// drain; if nothing turned grey meanwhile and no marker holds work, no grey
// object exists anywhere: every mutator's roots are black (scanned, and the
// hybrid barrier keeps them so), black objects never point to white ones
// (the insertion half), so every reachable object is black and no mutator
// can reach a white one again. The one way left to reach a white object is a
// weak reference; weak_read_slow() settles that race with closing_.
bool Collector::try_end_mark(Mutator* self) {
  Timeline::Scope span(timeline_, "termination round", "gc.phase");
  ++cycle_.termination_attempts;
  MarkShared& shared = *mark_shared_;
  if (!mark_looks_complete()) return false;
  const size_t greyed_before = shared.marked_objects.load(std::memory_order_seq_cst);
  flush_barrier_buffers(self);
  drain_background(SIZE_MAX);
  // No pending ephemeron may have a marked key: its value would be grey work.
  if (resolve_ephemerons(*background_marker_) != 0) {
    background_marker_->publish();
    return false;
  }
  if (!mark_looks_complete() || shared.marked_objects.load(std::memory_order_seq_cst) != greyed_before)
    return false;
  // Close, then look once more: a weak read that shaded before it saw
  // closing_ is visible now (Dekker pairing with weak_read_slow).
  closing_.store(true, std::memory_order_seq_cst);
  const size_t greyed_at_close = shared.marked_objects.load(std::memory_order_seq_cst);
  {
    std::lock_guard lock(close_mutex_);
    closed_at_greyed_ = greyed_at_close;
    close_decided_ = true;
    close_succeeded_ = greyed_at_close == greyed_before;
  }
  close_decision_.notify_all();
  if (!close_succeeded_) {
    reopen_mark();
    return false;
  }
  end_mark(self);
  return true;
}

void Collector::reopen_mark() {
  std::lock_guard lock(close_mutex_);
  closing_.store(false, std::memory_order_seq_cst);
  close_decided_ = false;
}

// The mark is complete: turn it off, raggedly. The sweep generation advances
// first, so spans taken from now on are "swept" and objects allocated in
// them need no mark; then each mutator stops allocating black and hands its
// cached spans back (they belong to the cycle being swept).
void Collector::end_mark(Mutator* self) {
  workers_.end_mark();  // idle since the clean round; now out of the mark
  cycle_.background_cpu_ns += workers_.take_cpu_ns();
  cycle_.idle_cpu_ns = workers_.take_idle_cpu_ns();
  if (config_.verify) {  // a consistent snapshot: the one pause verification needs
    world_.stop(self);
    verify_marks(*this);
    world_.start();
  }
  g_barrier_enabled.store(false, std::memory_order_seq_cst);
  const size_t marked_bytes = mark_shared_->marked_bytes.load(std::memory_order_relaxed);
  cycle_.heap_at_mark_end_bytes = heap_.heap_live_bytes();
  heap_.begin_sweep_cycle(config_.poison_freed, /*lazy_allowed=*/false);
  phase_.store(Phase::kSweep, std::memory_order_seq_cst);
  std::atomic<size_t> black_bytes{0};
  const uint64_t end_handshake = now_ns();
  world_.handshake(
      [&](Mutator& m) {
        Timeline::Scope own_span(timeline_, "handshake: end mark", "gc.handshake");
        stress_point();
        m.set_allocate_black(false);
        m.set_roots_scanned(false);
        black_bytes.fetch_add(m.take_black_allocated_bytes(), std::memory_order_relaxed);
        m.flush_allocation_cache();
      },
      self);
  cycle_.end_handshake_ns = now_ns() - end_handshake;
  timeline_.span("end handshake", "gc.phase", end_handshake, end_handshake + cycle_.end_handshake_ns);
  const size_t live = marked_bytes + black_bytes.load(std::memory_order_relaxed);
  heap_.reset_heap_live(live);
  cycle_.mutators = world_.size();
  cycle_.dedicated_markers = plan_.dedicated;
  cycle_.fractional_marker_share = plan_.fractional;
  cycle_.idle_markers = plan_.idle;
  cycle_.mark_ns = now_ns() - mark_started_ns_;
  background_marker_.reset();
  const size_t marked_objects = mark_shared_->marked_objects.load(std::memory_order_relaxed);
  if (marked_objects != 0) bytes_per_object_ = std::max(16.0, static_cast<double>(marked_bytes) / marked_objects);
  update_cpu_limiter();
  // Idle marking counts as background work for the pacer (as in Go), though
  // not for the CPU limiter: it only used CPU nobody else wanted.
  const uint64_t background_cpu = cycle_.background_cpu_ns + cycle_.idle_cpu_ns;
  const uint64_t gc_cpu = assist_cpu_ns_.load(std::memory_order_relaxed) + background_cpu;
  const uint64_t process_cpu = process_cpu_ns() - mark_started_process_cpu_ns_;
  std::lock_guard lock(stats_mutex_);
  pacer_.end_mark(MarkResult{live, marked_bytes, cycle_.heap_before_bytes, cycle_.heap_at_mark_end_bytes,
                             cycle_.mark_ns, assist_cpu_ns_.load(std::memory_order_relaxed), background_cpu,
                             process_cpu > gc_cpu ? process_cpu - gc_cpu : 0});
  recompute_goal_locked();
}

// The GC CPU limiter (driver thread only): GC CPU against the process's
// since the last update. While it limits, assists are skipped and the heap
// may pass its goal instead of the program spiralling into collection.
void Collector::update_cpu_limiter() {
  const uint64_t now = now_ns();
  const GcCpu gc_cpu = gc_cpu_totals();
  const uint64_t process_cpu = process_cpu_ns();
  auto since = [](uint64_t now_total, uint64_t last_total) { return now_total > last_total ? now_total - last_total : 0; };
  const uint64_t gc_delta = since(gc_cpu.marking_ns, limiter_gc_cpu_ns_);
  const uint64_t idle_delta = since(gc_cpu.idle_ns, limiter_idle_cpu_ns_);
  const uint64_t process_delta = since(process_cpu, limiter_process_cpu_ns_);
  limiter_gc_cpu_ns_ = gc_cpu.marking_ns;
  limiter_idle_cpu_ns_ = gc_cpu.idle_ns;
  limiter_process_cpu_ns_ = process_cpu;
  // Idle marking is neither the GC's nor the mutators' (Go's rule): it used
  // CPU that no one else wanted.
  const uint64_t not_mutator = gc_delta + idle_delta;
  limiter_.update(now, gc_delta, process_delta > not_mutator ? process_delta - not_mutator : 0);
  // Only a memory limit can drive the GC into a spiral (with GOGC alone the
  // goal grows with the live heap), so only then does the limiter act; on a
  // small machine the background marker alone is a large CPU share, and
  // skipping assists there would just let the heap run past its goal.
  if (limiter_.limiting()) limiter_full_updates_.fetch_add(1, std::memory_order_relaxed);
  limited_.store(limiter_.limiting() && config_.memory_limit_bytes != INT64_MAX, std::memory_order_relaxed);
}

// Monotonic: finished cycles, the cycle in progress and the pool's slices
// not yet taken into it.
Collector::GcCpu Collector::gc_cpu_totals() {
  std::lock_guard lock(stats_mutex_);
  return GcCpu{stats_.assist_cpu_ns + stats_.background_cpu_ns + assist_cpu_ns_.load(std::memory_order_relaxed) +
                   cycle_.background_cpu_ns + workers_.untaken_cpu_ns(),
               stats_.idle_cpu_ns + cycle_.idle_cpu_ns + workers_.untaken_idle_cpu_ns()};
}

void Collector::sweep_and_finish() {
  const uint64_t sweep_started = now_ns();
  {
    Timeline::Scope span(timeline_, "weak", "gc.phase");
    clear_dead_weak_references();
  }
  Timeline::Scope span(timeline_, "sweep", "gc.phase");
  g_weak_read_check.store(false, std::memory_order_seq_cst);
  heap_.allow_lazy_sweep();
  heap_.finish_sweep();
  phase_.store(Phase::kOff, std::memory_order_release);
  cycle_.sweep_ns = now_ns() - sweep_started;
  finish_cycle(cycle_, released_before_);
}

bool Collector::is_marked(const void* object) const {
  Span* span = heap_.span_of(object);
  if (span == nullptr) return false;
  span->acquire_geometry();
  return span->is_marked(span->slot_index(object));
}

size_t Collector::background_credit() const {
  return mark_shared_->background_credit.load(std::memory_order_relaxed);
}

size_t Collector::oblets_traced() const { return mark_shared_->oblets_traced.load(std::memory_order_relaxed); }

bool Collector::mark_looks_complete() {
  // Order matters (marker.h): a marker turns busy before it takes a packet,
  // so reading the queue first and the busy count second cannot miss work.
  const MarkShared& shared = *mark_shared_;
  return shared.queue.full_count() == 0 && shared.busy_markers.load(std::memory_order_seq_cst) == 0;
}

namespace {
// Nulls `slot` if it holds a target `is_live` rejects. A mutator may store
// into the slot meanwhile: only the target judged is cleared.
template <class IsLive>
void clear_if_dead(std::atomic<void*>* slot, const IsLive& is_live) {
  void* target = slot->load(std::memory_order_relaxed);
  if (target != nullptr && !is_live(target)) slot->compare_exchange_strong(target, nullptr, std::memory_order_relaxed);
}

// Nulls both slots of an ephemeron whose key `is_live` rejects. The value is
// read before the key is cleared: a writer that reuses the emptied pair
// stores its own value, which the value's compare-exchange then leaves alone.
template <class IsLive>
void clear_pair_if_dead(const PendingEphemeron& pair, const IsLive& is_live) {
  void* key = pair.key_slot->load(std::memory_order_relaxed);
  if (key == nullptr || is_live(key)) return;
  void* value = pair.value_slot->load(std::memory_order_relaxed);
  if (pair.key_slot->compare_exchange_strong(key, nullptr, std::memory_order_relaxed) && value != nullptr)
    pair.value_slot->compare_exchange_strong(value, nullptr, std::memory_order_relaxed);
}

// The end of a mark: nulls every weak reference the mark met whose target
// `is_live` rejects. A pending ephemeron's key was white when the mark ended;
// its pair loses the value too, which died with the key: a value slot left
// pointing at it would be shaded, as an old target, by the next store into
// the pair during a later mark, after the sweep freed it.
template <class IsLive>
void clear_dead_weak(MarkShared& shared, const IsLive& is_live) {
  for (std::atomic<void*>* slot : shared.weak_slots) clear_if_dead(slot, is_live);
  shared.weak_slots.clear();
  for (const PendingEphemeron& e : shared.ephemerons) clear_pair_if_dead(e, is_live);
  shared.ephemerons.clear();
  global_roots().clear_dead_weak(is_live);
}
}  // namespace

size_t Collector::resolve_ephemerons(Marker& marker) {
  MarkShared& shared = *mark_shared_;
  PendingEphemerons resolved;
  {
    std::lock_guard lock(shared.weak_mutex);
    // The driver calls this whenever mark work runs dry: do not rescan a
    // long list of dead keys when nothing was marked since the last pass.
    const size_t marked = shared.marked_objects.load(std::memory_order_seq_cst);
    if (marked == shared.unresolved_at_marked && shared.ephemerons.size() == shared.unresolved_at_pending) return 0;
    auto still_pending = std::partition(shared.ephemerons.begin(), shared.ephemerons.end(), [&](const PendingEphemeron& e) {
      const void* key = e.key_slot->load(std::memory_order_acquire);
      return key != nullptr && !marker.is_marked(key);
    });
    resolved.assign(still_pending, shared.ephemerons.end());
    shared.ephemerons.erase(still_pending, shared.ephemerons.end());
    if (resolved.empty()) {
      shared.unresolved_at_marked = marked;
      shared.unresolved_at_pending = shared.ephemerons.size();
    }
  }
  // Outside the lock: visiting may hand new pending pairs to `shared`.
  for (const PendingEphemeron& e : resolved) marker.visit_ephemeron(e.key_slot, e.value_slot);
  return resolved.size();
}

size_t Collector::pending_ephemerons() {
  std::lock_guard lock(mark_shared_->weak_mutex);
  return mark_shared_->ephemerons.size();
}

void Collector::clear_dead_weak_references() {
  clear_dead_weak(*mark_shared_, [this](const void* target) { return !heap_.is_unswept_and_dead(target); });
}

void Collector::finish_cycle(CycleReport& report, size_t released_before) {
  const SweepTotals totals = heap_.sweep_totals();
  report.live_bytes = totals.live_bytes;
  report.freed_bytes = totals.freed_bytes;
  report.live_objects = totals.live_objects;
  report.freed_objects = totals.freed_objects;
  {
    std::lock_guard lock(stats_mutex_);
    report.goal_bytes = stats_.heap_goal_bytes;
  }
  const HeapCounters memory = heap_.counters();
  heap_.release_free_memory(retained_free_bytes(report.goal_bytes, memory.in_use_span_bytes + memory.large_bytes));
  report.released_bytes = heap_.counters().released_total_bytes - released_before;
  report.assist_cpu_ns = assist_cpu_ns_.exchange(0, std::memory_order_relaxed);
  if (report.mutators == 0) report.mutators = world_.size();
  if (report.cycle == 0) {
    std::lock_guard lock(stats_mutex_);
    report.cycle = stats_.collections + 1;
  }
  record_cycle(report);
  const uint64_t ended = now_ns();
  timeline_.counter("heap live MB", ended, static_cast<double>(heap_.heap_live_bytes()) / (1 << 20));
  timeline_.counter("heap goal MB", ended,
                    report.goal_bytes == kNoHeapGoal ? 0.0 : static_cast<double>(report.goal_bytes) / (1 << 20));
  if (config_.on_cycle) config_.on_cycle(report);
}

// ---------------------------------------------------------------- assists

void Collector::add_assist_debt(Mutator& self, size_t bytes, bool deferred) {
  const double work_per_byte = mark_plan_.assist_work_per_byte_at(
      heap_.heap_live_bytes(), mark_shared_->marked_bytes.load(std::memory_order_relaxed));
  const auto objects = static_cast<size_t>(static_cast<double>(bytes) * work_per_byte / bytes_per_object_);
  (deferred ? self.deferred_debt_objects() : self.assist_debt_objects()) += objects;
}

// Background markers ahead of the allocation pay first (Go's scan credit).
// True when what is left of `debt` is too small to assist for.
bool Collector::take_background_credit(size_t& debt) {
  std::atomic<size_t>& credit = mark_shared_->background_credit;
  size_t available = credit.load(std::memory_order_relaxed);
  while (available != 0) {
    const size_t take = std::min(available, debt);
    if (credit.compare_exchange_weak(available, available - take, std::memory_order_relaxed)) {
      debt -= take;
      break;
    }
  }
  return debt < kMinAssistObjects;
}

void Collector::pay_assist_debt(Mutator& self) {
  // mark_plan_ is read only after an acquire load of the mark phase: it is
  // published before the phase (begin_mark), and this mutator reaches no
  // safepoint before reading it, so the next mark cannot rewrite it meanwhile
  // (the same protocol as charge_assist). Outside a mark, pay_debt forgives.
  uint64_t budget_ns = UINT64_MAX;
  if (phase_.load(std::memory_order_acquire) == Phase::kMark && !mark_plan_.memory_limited) {
    const bool past_hard_goal = heap_.heap_live_bytes() >= mark_plan_.hard_goal_bytes;
    budget_ns = past_hard_goal ? kAssistBudgetPastHardGoalNs : kAssistBudgetNs;
  }
  pay_debt(self, self.assist_debt_objects(), SIZE_MAX, budget_ns);
}

void Collector::pay_deferred_debt(Mutator& self) {
  if (++self.deferred_debt_calls() % kDeferredDebtPeriod != 0 &&
      phase_.load(std::memory_order_relaxed) == Phase::kMark)
    return;
  pay_debt(self, self.deferred_debt_objects(), kDeferredDebtPeriod, kAssistBudgetNs);
}

void Collector::pay_debt(Mutator& self, size_t& debt, size_t max_slices, uint64_t budget_ns) {
  if (debt < kMinAssistObjects) return;
  // The GC is over its CPU share: no assists, let the heap overshoot instead.
  if (limited_.load(std::memory_order_relaxed)) [[unlikely]] {
    assists_skipped_.fetch_add(1, std::memory_order_relaxed);
    debt = 0;
    return;
  }
  if (phase_.load(std::memory_order_acquire) != Phase::kMark) {
    debt = 0;
    return;
  }
  if (take_background_credit(debt)) return;
  const uint64_t started = thread_cpu_ns();
  const uint64_t started_wall = budget_ns == UINT64_MAX ? 0 : now_ns();
  {
    Timeline::Scope span(timeline_, "assist", "gc.assist");
    Marker marker(heap_, *mark_shared_, /*exclusive=*/false);
    // Slices until the debt is paid or `max_slices` ran; between two, the
    // mutator answers handshakes (its time-to-safepoint stays one slice).
    // The marker keeps its local work across slices unless it stops for a
    // handshake.
    for (size_t slices = 1;; ++slices) {
      const size_t before = marker.traced_objects();
      const bool out_of_work = marker.drain(std::min(debt, kAssistSliceObjects));
      // No work to be had: the background markers are ahead; forgive the rest.
      debt = out_of_work ? 0 : debt - std::min(debt, marker.traced_objects() - before);
      if (debt < kMinAssistObjects || slices == max_slices) break;
      if (budget_ns != UINT64_MAX && now_ns() - started_wall >= budget_ns) break;  // the rest is carried
      if (self.safepoint_requested()) {
        marker.publish();  // stopped, it must hold no grey object
        self.safepoint();
      }
      if (phase_.load(std::memory_order_acquire) != Phase::kMark || limited_.load(std::memory_order_relaxed)) {
        debt = 0;
        break;
      }
      if (take_background_credit(debt)) break;
    }
    marker.publish();
  }
  assist_cpu_ns_.fetch_add(thread_cpu_ns() - started, std::memory_order_relaxed);
}

// ---------------------------------------------------------------- barrier slow paths

bool Collector::shade_for_mutator(const void* object) {
  Span* span = heap_.span_of(object);
  if (span == nullptr) return false;
  span->acquire_geometry();
  if (!span->try_mark(span->slot_index(object))) return false;
  MarkShared& shared = *mark_shared_;
  shared.marked_bytes.fetch_add(span->is_large() ? span->bytes : span->slot_bytes, std::memory_order_relaxed);
  shared.marked_objects.fetch_add(1, std::memory_order_seq_cst);  // seen by termination rounds
  return true;
}

void Collector::publish_buffered(Mutator& mutator) {
  Marker marker(heap_, *mark_shared_, /*exclusive=*/false);
  mutator.drain_barrier_buffer([&](const void* grey) { marker.adopt_grey(grey); });
  marker.publish();
}

void Collector::shade_from_foreign_thread(const void* old_target, const void* new_target) {
  std::lock_guard lock(foreign_shade_mutex_);
  if (phase_.load(std::memory_order_acquire) != Phase::kMark) return;  // the mark already ended
  Marker marker(heap_, *mark_shared_, /*exclusive=*/false);
  marker.visit_object(old_target);
  marker.visit_object(new_target);
  marker.publish();
}

void Collector::shade_batch_from_foreign_thread(const void* const* targets, size_t count) {
  std::lock_guard lock(foreign_shade_mutex_);
  if (phase_.load(std::memory_order_acquire) != Phase::kMark) return;
  Marker marker(heap_, *mark_shared_, /*exclusive=*/false);
  for (size_t i = 0; i < count; ++i) marker.visit_object(targets[i]);
  marker.publish();
}

const void* Collector::weak_read_slow(const void* target) {
  if (target == nullptr) return nullptr;
  if (phase_.load(std::memory_order_seq_cst) != Phase::kMark) return heap_.is_unswept_and_dead(target) ? nullptr : target;
  // Marking: the reader may store the target anywhere, so it must survive —
  // unless the mark is closing, when a white target is already dead.
  if (closing_.load(std::memory_order_seq_cst)) return await_close_verdict(target, 0);
  Mutator* self = Mutator::current();
  const size_t greyed_before = mark_shared_->marked_objects.load(std::memory_order_seq_cst);
  const bool greyed = self != nullptr ? self->shade(target) : shade_for_mutator(target);
  if (self == nullptr && greyed) {  // no buffer of its own: straight to the queue
    Marker marker(heap_, *mark_shared_, /*exclusive=*/false);
    marker.adopt_grey(target);
    marker.publish();
  }
  if (!greyed || !closing_.load(std::memory_order_seq_cst)) return target;
  // We shaded while the collector was closing the mark: wait for its verdict.
  return await_close_verdict(target, greyed_before + 1);
}

// The mark is closing and `target` was read through a weak reference. If the
// close succeeded without counting our shade (greyed_count: the count our
// shade produced, 0 if we did not shade), the target was white when marking
// ended: dead. Undo our mark and read null. If the mark reopened, it stands.
const void* Collector::await_close_verdict(const void* target, size_t greyed_count) {
  std::unique_lock lock(close_mutex_);
  close_decision_.wait(lock, [&] { return close_decided_ || !closing_.load(std::memory_order_seq_cst); });
  if (!closing_.load(std::memory_order_seq_cst)) return target;  // reopened: marking goes on
  if (greyed_count == 0) return is_marked(target) ? target : nullptr;
  if (greyed_count > closed_at_greyed_) {
    Span* span = heap_.span_of(target);
    span->clear_mark(span->slot_index(target));
    return nullptr;
  }
  return target;
}

// ---------------------------------------------------------------- stop-the-world cycle

void Collector::stw_mark(Marker& marker) {
  global_roots().trace_strong(marker);
  deferred_.trace(marker);
  provisioner_.trace(marker);
  marker.drain();
  world_.for_each([&](Mutator& mutator) {
    mutator.scan_roots(marker);
    marker.drain();
  });
  for (;;) {
    marker.publish();  // hands the pending ephemerons to mark_shared_
    if (resolve_ephemerons(marker) == 0) break;
    marker.drain();
  }
  clear_dead_weak(*mark_shared_, [&](const void* target) { return marker.is_marked(target); });
}

void Collector::run_stw_cycle(Mutator* self, CycleReason reason) {
  const uint64_t cycles_seen = stw_cycles_completed_.load(std::memory_order_acquire);
  // Waiting for another thread's cycle: be blocked meanwhile, so that cycle's
  // stop does not wait for us.
  if (self != nullptr) self->enter_blocking();
  std::unique_lock cycle_lock(stw_cycle_mutex_);
  std::unique_lock no_deferred_slice(deferred_run_mutex_);
  if (self != nullptr) self->leave_blocking();
  if (reason == CycleReason::kHeapGoal && stw_cycles_completed_.load(std::memory_order_acquire) != cycles_seen &&
      heap_.heap_live_bytes() < trigger_bytes_.load(std::memory_order_relaxed))
    return;  // another thread collected while we waited

  CycleReport report;
  report.reason = reason;
  report.start_ns = now_ns();
  report.heap_before_bytes = heap_.heap_live_bytes();
  report.heap_at_mark_end_bytes = report.heap_before_bytes;
  const size_t released_before = heap_.counters().released_total_bytes;

  world_.stop(self);
  const uint64_t stopped_ns = now_ns();
  report.ttsp_ns = stopped_ns - report.start_ns;
  report.mutators = world_.size();

  MarkShared& shared = *mark_shared_;
  shared.reset();
  {
    Marker marker(heap_, shared, /*exclusive=*/true);
    stw_mark(marker);
  }
  const uint64_t marked_ns = now_ns();
  report.mark_ns = marked_ns - stopped_ns;

  world_.for_each([](Mutator& mutator) { mutator.flush_allocation_cache(); });
  const SweepTotals totals = heap_.sweep_all(config_.poison_freed);
  {
    std::lock_guard lock(stats_mutex_);
    pacer_.set_live_bytes(totals.live_bytes);
    recompute_goal_locked();
  }
  if (config_.verify) verify_heap(*this);
  report.sweep_ns = now_ns() - marked_ns;
  report.cycle = stw_cycles_completed_.load(std::memory_order_relaxed) + 1;
  stw_cycles_completed_.store(report.cycle, std::memory_order_release);
  world_.start();
  report.pause_ns = now_ns() - report.start_ns;
  record_global_pause(report.ttsp_ns, report.pause_ns);
  timeline_.span("stop-the-world cycle", "gc.pause", report.start_ns, report.start_ns + report.pause_ns);
  no_deferred_slice.unlock();
  cycle_lock.unlock();
  finish_cycle(report, released_before);
}

// ---------------------------------------------------------------- stats

void Collector::record_global_pause(uint64_t ttsp_ns, uint64_t pause_ns) {
  std::lock_guard lock(stats_mutex_);
  stats_.pause_ns.record(pause_ns);
  stats_.global_pause_ns.record(pause_ns);
  stats_.ttsp_ns.record(ttsp_ns);
  stats_.total_pause_ns += pause_ns;
}

void Collector::record_mutator_pause(uint64_t ttsp_ns, uint64_t pause_ns) {
  std::lock_guard lock(stats_mutex_);
  stats_.pause_ns.record(pause_ns);
  stats_.ttsp_ns.record(ttsp_ns);
  stats_.total_pause_ns += pause_ns;
}

void Collector::record_cycle(const CycleReport& report) {
  std::lock_guard lock(stats_mutex_);
  ++stats_.collections;
  if (report.reason == CycleReason::kExplicit) ++stats_.explicit_collections;
  stats_.live_bytes = report.live_bytes;
  stats_.assist_cpu_ns += report.assist_cpu_ns;
  stats_.background_cpu_ns += report.background_cpu_ns;
  stats_.idle_cpu_ns += report.idle_cpu_ns;
}

GcStats Collector::stats() {
  std::lock_guard lock(stats_mutex_);
  GcStats copy = stats_;
  copy.heap_live_bytes = heap_.heap_live_bytes();
  copy.allocated_total_bytes = heap_.allocated_total_bytes();
  copy.freed_total_bytes = heap_.freed_total_bytes();
  copy.mutators = world_.size();
  copy.memory = heap_.counters();
  copy.cpu_limiter_full_updates = limiter_full_updates_.load(std::memory_order_relaxed);
  copy.assists_skipped = assists_skipped_.load(std::memory_order_relaxed);
  return copy;
}

}  // namespace tricolor::gc
