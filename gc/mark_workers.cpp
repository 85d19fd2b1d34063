// mark_workers.cpp — the pool of extra background markers (mark_workers.h).
#include "mark_workers.h"

#include <sched.h>

#include <algorithm>
#include <chrono>

#include "cpu_time.h"
#include "marker.h"

namespace tricolor::gc {
namespace {

// Entries traced between two looks at whether the mark is still on.
constexpr size_t kDrainSlice = 4096;
// An idle marker's slice: short, because it may be preempted inside it
// while holding grey objects that termination waits for.
constexpr size_t kIdleSlice = 512;
// Longest rest of the fractional marker before it looks at the mark again.
constexpr uint64_t kMaxRestNs = 1'000'000;

uint64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// SCHED_IDLE: the thread runs only when a core has nothing else to run.
// Failure (a system without the policy) leaves the thread as it was.
void set_policy(pthread_t thread, int policy) {
  sched_param param{};
  param.sched_priority = 0;
  pthread_setschedparam(thread, policy, &param);
}

}  // namespace

bool idle_priority_supported() {
  static const bool supported = [] {
    bool lifted = false;
    std::thread probe([&] {
      set_policy(pthread_self(), SCHED_IDLE);
      sched_param param{};
      lifted = pthread_setschedparam(pthread_self(), SCHED_OTHER, &param) == 0;
    });
    probe.join();
    return lifted;
  }();
  return supported;
}

bool MarkWorkers::at_idle_priority(unsigned index) {
  int policy = 0;
  sched_param param{};
  if (pthread_getschedparam(workers_.at(index)->thread.native_handle(), &policy, &param) != 0) return false;
  return policy == SCHED_IDLE;
}

MarkWorkers::MarkWorkers(Heap& heap, const MarkWorkerPlan& pool, std::function<bool()> run_deferred_slice)
    : heap_(heap), fractional_share_(pool.fractional), run_deferred_slice_(std::move(run_deferred_slice)) {
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
  left_.wait(lock, [&] { return in_mark_ == 0; });
  shared_ = nullptr;
}

unsigned MarkWorkers::boost_busy_idle_markers() {
  unsigned lifted = 0;
  for (auto& worker : workers_) {
    if (worker->role != Role::kIdle || !worker->in_slice.load(std::memory_order_acquire)) continue;
    std::lock_guard lock(worker->priority_mutex);
    if (worker->boosted) continue;
    set_policy(worker->thread.native_handle(), SCHED_OTHER);
    worker->boosted = true;
    worker->boost_pending.store(true, std::memory_order_release);
    idle_boosts_.fetch_add(1, std::memory_order_relaxed);
    ++lifted;
  }
  return lifted;
}

void MarkWorkers::restore_idle_priority(Worker& worker) {
  if (!worker.boost_pending.load(std::memory_order_acquire)) return;
  std::lock_guard lock(worker.priority_mutex);
  set_policy(pthread_self(), SCHED_IDLE);
  worker.boosted = false;
  worker.boost_pending.store(false, std::memory_order_release);
}

void MarkWorkers::run(Worker& worker) {
  if (worker.role == Role::kIdle) {
    std::lock_guard priority(worker.priority_mutex);
    set_policy(pthread_self(), SCHED_IDLE);
  }
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
  const uint64_t cpu_started = thread_cpu_ns();
  uint64_t deferred_cpu = 0;  // not marking: left out of the mark CPU
  {
    Marker marker(heap_, shared, /*exclusive=*/false);
    while (marking_.load(std::memory_order_acquire)) {
      if (worker.role == Role::kFractional) {
        const uint64_t rest = share.rest_ns(steady_ns());
        if (rest != 0) {
          std::this_thread::sleep_for(std::chrono::nanoseconds(std::min(rest, kMaxRestNs)));
          continue;
        }
      }
      if (idle) {
        restore_idle_priority(worker);
        worker.in_slice.store(true, std::memory_order_release);
      }
      const uint64_t slice_started = thread_cpu_ns();
      const bool out_of_work = marker.drain_as_background(idle ? kIdleSlice : kDrainSlice);
      if (idle || worker.role == Role::kFractional) marker.publish();
      share.add_cpu(thread_cpu_ns() - slice_started);
      if (idle) worker.in_slice.store(false, std::memory_order_release);
      if (!out_of_work) continue;
      // Out of mark work: deferred work if there is some, else wait for more
      // (others publish full packets) or for the end.
      const uint64_t deferred_started = thread_cpu_ns();
      const bool ran_deferred = run_deferred_slice_ && run_deferred_slice_();
      deferred_cpu += thread_cpu_ns() - deferred_started;
      if (ran_deferred) continue;
      while (marking_.load(std::memory_order_acquire) && shared.queue.full_count() == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }  // the marker publishes what it holds and turns idle here
  (idle ? idle_cpu_ns_ : cpu_ns_).fetch_add(thread_cpu_ns() - cpu_started - deferred_cpu, std::memory_order_relaxed);
}

}  // namespace tricolor::gc
