// provisioner.h — the background thread that makes memory resident before a
// mutator first touches it.
//
// Owns: one thread (started by the first submit) and its queue of jobs
// (DeferredWork items: PrefaultWork for a map's next table, see prefault.h;
// the heap's next run of spans, see Heap::set_provisioner), run in
// submission order, a bounded slice at a time, each until finished.
// Why a thread of its own: a first touch is a page fault, and on a virtual
// machine that backs guest memory lazily one costs 7-11 µs per 4 KiB, or up
// to 5 ms per 2 MiB huge page (bench/RESULTS.md). Taking them off the
// mutators means taking them before the memory is needed, within
// milliseconds; the driver's deferred queue can wait for seconds behind a
// mark, so it would be too late.
// Invariants:
//  - a queued job is a root (trace), like deferred work, so what it
//    populates stays allocated while it runs;
//  - jobs only populate memory, never change what it holds, so they may run
//    at any time, also inside a stop-the-world pause;
//  - the thread is joined by the destructor (queued jobs are dropped), which
//    runs before the heap's: the collector declares it after the heap.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "deferred_work.h"

namespace tricolor::gc {

class Provisioner {
 public:
  Provisioner() = default;
  Provisioner(const Provisioner&) = delete;
  Provisioner& operator=(const Provisioner&) = delete;
  ~Provisioner();

  void submit(std::shared_ptr<DeferredWork> job);
  void trace(Visitor& visitor) { queue_.trace(visitor); }
  // Jobs queued or running.
  size_t pending() const { return queue_.size(); }
  uint64_t slices_run() const { return queue_.slices_run(); }

  // Test only: while held, the thread starts no new slice.
  void hold_for_test(bool held);

 private:
  static constexpr uint64_t kSliceNs = 2'000'000;
  void main();

  DeferredWorkQueue queue_;
  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool stopping_ = false;
  bool held_ = false;
  std::thread thread_;
};

}  // namespace tricolor::gc
