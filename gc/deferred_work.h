// deferred_work.h — work the collector's background thread does for others,
// in bounded slices: the generic queue whose first client is the managed
// map's evacuation (map/ hands its growth here; gc/ knows nothing of maps).
//
// Owns: DeferredWork (an item: run(budget) → done?) and DeferredWorkQueue.
// The collector's driver runs one slice of the front item whenever it has
// nothing better to do: between cycles, and during a mark whenever the mark
// queue runs dry; an unfinished item goes to the back.
// Invariants:
//  - an item is owned by the queue from push() until run() returns true, then
//    dropped; it is never run by two threads at once;
//  - an item's trace() is a root: pending items keep what they work on alive
//    (the collector traces them with the global roots, and an item pushed
//    while marking is traced at once).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

namespace tricolor {
class Visitor;
}

namespace tricolor::gc {

class DeferredWork {
 public:
  virtual ~DeferredWork() = default;
  // Does about `budget_ns` of work at most; true when the item is finished.
  // Runs on the collector's thread, concurrently with mutators.
  virtual bool run(uint64_t budget_ns) = 0;
  // Visits the managed objects the item needs (a root while it is queued).
  virtual void trace(Visitor&) const {}
};

class DeferredWorkQueue {
 public:
  void push(std::shared_ptr<DeferredWork> item);
  // Runs one slice of the front item; false when the queue was empty.
  bool run_one(uint64_t budget_ns);
  void trace(Visitor& visitor);
  size_t size() const { return size_.load(std::memory_order_acquire); }
  uint64_t slices_run() const { return slices_run_.load(std::memory_order_relaxed); }

 private:
  std::mutex mutex_;
  std::deque<std::shared_ptr<DeferredWork>> items_;
  std::atomic<size_t> size_{0};  // queued plus the one being run
  std::atomic<uint64_t> slices_run_{0};
};

}  // namespace tricolor::gc
