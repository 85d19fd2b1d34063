// world.h — the registry of mutators and the stop-the-world protocol.
//
// Owns: the list of registered mutators and the handshake that stops them all
// at safepoints and restarts them. A mutator counts as stopped when it is
// parked at a safepoint or inside a BlockingRegion; the collector never waits
// for a blocked thread.
// Invariants:
//  - the registry lock is held from stop() to start(): no mutator registers,
//    unregisters or leaves the stopped state while the world is stopped.
//  - Dekker pairing, all seq_cst: the collector stores stop_requested_ and then
//    reads each status; a mutator stores its status (running) and then reads
//    stop_requested_. So either the collector sees the mutator running and
//    waits for it, or the mutator sees the request and parks again.
//  - only start() clears a mutator's poll word, while that mutator is still
//    parked, so a request can never be lost between two stops.
// Called by: gc/collector.cpp (stop/start), gc/mutator.cpp (park, blocking).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace tricolor {
class Mutator;
}

namespace tricolor::gc {

class World {
 public:
  void add(Mutator* mutator);
  void remove(Mutator* mutator);

  // Stops every mutator but `self` (null when the caller is not a mutator)
  // and returns once all are parked or blocked.
  void stop(Mutator* self);
  // Restarts the mutators stopped by stop().
  void start();

  // Runs `fn` on every registered mutator; only while the world is stopped.
  template <class Fn>
  void for_each(Fn&& fn) {
    for (Mutator* m = head_; m != nullptr; m = next_of(m)) fn(*m);
  }
  size_t size() const { return count_.load(std::memory_order_relaxed); }

  // Mutator side: park at a safepoint until the world restarts.
  void park(Mutator& mutator);
  // Mutator side: leave a BlockingRegion, parking first if a stop is underway.
  void leave_blocking(Mutator& mutator);
  void enter_blocking(Mutator& mutator);

 private:
  static Mutator* next_of(Mutator* mutator);
  void wait_until_stopped(Mutator& mutator);

  std::mutex registry_mutex_;
  Mutator* head_ = nullptr;
  std::atomic<size_t> count_{0};
  std::atomic<uint32_t> stop_requested_{0};
};

}  // namespace tricolor::gc
