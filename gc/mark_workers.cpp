// mark_workers.cpp — the pool of extra background markers (mark_workers.h).
#include "mark_workers.h"

#include <chrono>

#include "cpu_time.h"
#include "marker.h"

namespace tricolor::gc {
namespace {

// Entries traced between two looks at whether the mark is still on.
constexpr size_t kDrainSlice = 4096;

}  // namespace

MarkWorkers::MarkWorkers(Heap& heap, unsigned count) : heap_(heap) {
  for (unsigned i = 0; i < count; ++i) threads_.emplace_back([this] { run(); });
}

MarkWorkers::~MarkWorkers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void MarkWorkers::start_mark(MarkShared& shared) {
  if (threads_.empty()) return;
  {
    std::lock_guard lock(mutex_);
    shared_ = &shared;
    ++mark_epoch_;
    marking_.store(true, std::memory_order_release);
  }
  wake_.notify_all();
}

void MarkWorkers::end_mark() {
  if (threads_.empty()) return;
  std::unique_lock lock(mutex_);
  marking_.store(false, std::memory_order_release);
  left_.wait(lock, [&] { return in_mark_ == 0; });
  shared_ = nullptr;
}

void MarkWorkers::run() {
  uint64_t seen_epoch = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || (marking_.load() && mark_epoch_ != seen_epoch); });
    if (stopping_) return;
    seen_epoch = mark_epoch_;
    MarkShared& shared = *shared_;
    ++in_mark_;
    lock.unlock();
    const uint64_t cpu_started = thread_cpu_ns();
    {
      Marker marker(heap_, shared, /*exclusive=*/false);
      while (marking_.load(std::memory_order_acquire)) {
        if (!marker.drain_as_background(kDrainSlice)) continue;
        // Out of work: wait for more (others publish full packets) or the end.
        while (marking_.load(std::memory_order_acquire) && shared.queue.full_count() == 0)
          std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    }  // the marker publishes what it holds and turns idle here
    cpu_ns_.fetch_add(thread_cpu_ns() - cpu_started, std::memory_order_relaxed);
    lock.lock();
    --in_mark_;
    left_.notify_all();
  }
}

}  // namespace tricolor::gc
