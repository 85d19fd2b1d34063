// mark_workers.h — background markers beside the collector's driver thread.
//
// Owns: a fixed pool of threads (Go's dedicated mark workers) that, while a
// concurrent mark runs, drain the shared mark queue with markers of their
// own, and otherwise sleep. The driver is always the first background
// marker; the pool adds GcConfig::mark_workers - 1 more (by default a quarter
// of the machine's cores in all, as Go sizes its dedicated workers).
// Invariants: a worker holds grey objects only while busy (marker.h), so
// termination rounds see its work; after end_mark() returns no worker touches
// mark state until the next start_mark().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace tricolor::gc {

class Heap;
struct MarkShared;

class MarkWorkers {
 public:
  MarkWorkers(Heap& heap, unsigned count);
  MarkWorkers(const MarkWorkers&) = delete;
  MarkWorkers& operator=(const MarkWorkers&) = delete;
  ~MarkWorkers();

  unsigned count() const { return static_cast<unsigned>(threads_.size()); }
  // Wakes the workers to mark into `shared` until end_mark().
  void start_mark(MarkShared& shared);
  // Returns once every worker has left the mark (its marker published).
  void end_mark();
  // CPU the workers spent marking, since the last call.
  uint64_t take_cpu_ns() { return cpu_ns_.exchange(0, std::memory_order_relaxed); }

 private:
  void run();

  Heap& heap_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable left_;
  MarkShared* shared_ = nullptr;
  uint64_t mark_epoch_ = 0;
  bool stopping_ = false;
  int in_mark_ = 0;
  std::atomic<bool> marking_{false};
  std::atomic<uint64_t> cpu_ns_{0};
  std::vector<std::thread> threads_;
};

}  // namespace tricolor::gc
