// mark_workers.cpp — the pool of extra background markers (mark_workers.h).
#include "mark_workers.h"

#include <algorithm>
#include <chrono>

#include "cpu_time.h"
#include "marker.h"

namespace tricolor::gc {
namespace {

// Entries traced between two looks at whether the mark is still on.
constexpr size_t kDrainSlice = 4096;
// An idle marker's slice: short, so that it gives a core back soon after a
// mutator wants it.
constexpr size_t kIdleSlice = 512;
// How often a pool marker that found nothing to do looks again: at first
// soon, then less and less often (RecheckBackoff): an idle marker kept off
// the cores, and a marker out of mark work while others still hold some.
constexpr uint64_t kFirstRecheckUs = 50;
constexpr uint64_t kMaxRecheckUs = 5'000;
// Longest rest of the fractional marker before it looks at the mark again.
constexpr uint64_t kMaxRestNs = 1'000'000;

uint64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

MarkWorkers::MarkWorkers(Heap& heap, const MarkWorkerPlan& pool, std::function<bool()> run_deferred_slice,
                         std::function<unsigned()> spare_cores)
    : heap_(heap),
      fractional_share_(pool.fractional),
      run_deferred_slice_(std::move(run_deferred_slice)),
      spare_cores_(std::move(spare_cores)) {
  auto add = [&](Role role) {
    workers_.push_back(std::make_unique<Worker>());
    workers_.back()->role = role;
  };
  for (unsigned i = 0; i < pool.dedicated; ++i) add(Role::kDedicated);
  if (pool.fractional > 0.0) add(Role::kFractional);
  for (unsigned i = 0; i < pool.idle; ++i) add(Role::kIdle);
  for (auto& worker : workers_) worker->thread = std::thread([this, w = worker.get()] { run(*w); });
}

MarkWorkers::~MarkWorkers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker->thread.join();
}

unsigned MarkWorkers::count(Role role) const {
  return static_cast<unsigned>(
      std::count_if(workers_.begin(), workers_.end(), [&](const auto& w) { return w->role == role; }));
}

void MarkWorkers::start_mark(MarkShared& shared) {
  if (workers_.empty()) return;
  {
    std::lock_guard lock(mutex_);
    shared_ = &shared;
    ++mark_epoch_;
    mark_started_ns_ = steady_ns();
    marking_.store(true, std::memory_order_release);
  }
  wake_.notify_all();
}

void MarkWorkers::end_mark() {
  if (workers_.empty()) return;
  std::unique_lock lock(mutex_);
  marking_.store(false, std::memory_order_release);
  wake_.notify_all();  // ends the waits of wait_while_marking
  left_.wait(lock, [&] { return in_mark_ == 0; });
  shared_ = nullptr;
}

void MarkWorkers::wait_while_marking(uint64_t us) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, std::chrono::microseconds(us),
                 [&] { return stopping_ || !marking_.load(std::memory_order_relaxed); });
}

bool MarkWorkers::claim_spare_core() {
  const unsigned spare = spare_cores_ ? spare_cores_() : 0;
  if (idle_marking_.fetch_add(1, std::memory_order_relaxed) < spare) return true;
  idle_marking_.fetch_sub(1, std::memory_order_relaxed);
  idle_declined_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void MarkWorkers::run(Worker& worker) {
  uint64_t seen_epoch = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || (marking_.load() && mark_epoch_ != seen_epoch); });
    if (stopping_) return;
    seen_epoch = mark_epoch_;
    MarkShared& shared = *shared_;
    ++in_mark_;
    lock.unlock();
    mark(worker, shared);
    lock.lock();
    --in_mark_;
    left_.notify_all();
  }
}

// One mark, in the worker's role, until end_mark().
void MarkWorkers::mark(Worker& worker, MarkShared& shared) {
  const bool idle = worker.role == Role::kIdle;
  FractionalShare share(fractional_share_ > 0.0 ? fractional_share_ : 1.0);
  share.start(mark_started_ns_);
  RecheckBackoff backoff(kFirstRecheckUs, kMaxRecheckUs);
  {
    Marker marker(heap_, shared, /*exclusive=*/false);
    while (marking_.load(std::memory_order_acquire)) {
      const bool fractional = worker.role == Role::kFractional;
      if (fractional) {
        const uint64_t rest = share.rest_ns(steady_ns());
        if (rest != 0) {
          set_fractional_marking(false);
          std::this_thread::sleep_for(std::chrono::nanoseconds(std::min(rest, kMaxRestNs)));
          continue;
        }
        set_fractional_marking(true);
      }
      if (idle && !claim_spare_core()) {  // every core is taken: look again later
        wait_while_marking(backoff.next_wait_us());
        continue;
      }
      backoff.reset();
      const uint64_t slice_started = thread_cpu_ns();
      const bool out_of_work = marker.drain_as_background(idle ? kIdleSlice : kDrainSlice);
      if (idle || worker.role == Role::kFractional) marker.publish();
      const uint64_t slice_cpu = thread_cpu_ns() - slice_started;
      share.add_cpu(slice_cpu);
      (idle ? idle_cpu_ns_ : cpu_ns_).fetch_add(slice_cpu, std::memory_order_relaxed);  // visible at once (CPU limiter)
      if (idle) idle_marking_.fetch_sub(1, std::memory_order_relaxed);
      if (!out_of_work) continue;
      // Out of mark work: deferred work if there is some, else wait for more
      // (others publish full packets) or for the end.
      if (run_deferred_slice_ && run_deferred_slice_()) continue;
      if (fractional) set_fractional_marking(false);
      while (marking_.load(std::memory_order_acquire) && shared.queue.full_count() == 0)
        wait_while_marking(backoff.next_wait_us());
    }
  }  // the marker publishes what it holds and turns idle here
  if (worker.role == Role::kFractional) set_fractional_marking(false);
}

}  // namespace tricolor::gc
