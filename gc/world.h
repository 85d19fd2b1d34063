// world.h — the registry of mutators, the stop-the-world protocol and the
// ragged per-thread handshake.
//
// Owns: the list of registered mutators; stop()/start(), which stop them all
// at safepoints and restart them; and handshake(op), which has every mutator
// run `op` on itself at its next safepoint while the others keep running
// (only that thread pauses, for the time op takes). A mutator counts as
// stopped when it is parked or inside a BlockingRegion; the collector never
// waits for a blocked thread: it claims it (kBlocked → kClaimed) and runs
// the handshake on its behalf, and the thread cannot leave the region until
// it is given back.
// Invariants:
//  - the registry lock is held from stop() to start(): no mutator registers,
//    unregisters or leaves the stopped state while the world is stopped.
//  - Dekker pairing, all seq_cst: the collector stores stop_requested_ and then
//    reads each status; a mutator stores its status (running) and then reads
//    stop_requested_. So either the collector sees the mutator running and
//    waits for it, or the mutator sees the request and parks again.
//  - only start() clears a mutator's stop bit, while that mutator is still
//    parked, so a request can never be lost between two stops; a handshake
//    bit is cleared only after its op ran, by whoever ran it.
//  - stop() and handshake() are called by one collector thread at a time and
//    never overlap.
// Called by: gc/collector.cpp (stop/start), gc/mutator.cpp (park, blocking).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>

namespace tricolor {
class Mutator;
}

namespace tricolor::gc {

class World {
 public:
  void add(Mutator* mutator);
  // Called under the registry lock for each new mutator, so that it joins a
  // cycle in progress in the right state (allocating black while marking).
  void set_registration_hook(std::function<void(Mutator&)> hook) { registration_hook_ = std::move(hook); }
  // Test only: runs on a mutator right after it has answered a handshake,
  // before its time to safepoint is recorded (the window in which the
  // collector may already request the next handshake).
  void set_after_answer_hook_for_test(std::function<void(Mutator&)> hook) { after_answer_hook_ = std::move(hook); }
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
  // Registered mutators not inside a BlockingRegion (a snapshot).
  size_t running() const {
    const size_t all = count_.load(std::memory_order_relaxed);
    const size_t blocked = blocked_.load(std::memory_order_relaxed);
    return all > blocked ? all - blocked : 0;
  }

  using HandshakeOp = std::function<void(Mutator&)>;
  // Runs `op` once for every registered mutator: by the mutator itself at its
  // next safepoint, or by the caller for a blocked one and for `self` (the
  // calling mutator, or null). Returns when all ran.
  void handshake(const HandshakeOp& op, Mutator* self = nullptr);
  // Called with (time-to-safepoint, pause) for every handshake a mutator
  // answered itself, on that mutator's thread.
  void set_pause_recorder(std::function<void(uint64_t ttsp_ns, uint64_t pause_ns)> recorder) {
    pause_recorder_ = std::move(recorder);
  }

  // Mutator side: run the pending handshake (from safepoint_slow).
  void answer_handshake(Mutator& mutator);
  // Mutator side: park at a safepoint until the world restarts.
  void park(Mutator& mutator);
  // Mutator side: leave a BlockingRegion, parking first if a stop is underway.
  void leave_blocking(Mutator& mutator);
  void enter_blocking(Mutator& mutator);

 private:
  static Mutator* next_of(Mutator* mutator);
  void wait_until_stopped(Mutator& mutator);
  void wait_for_handshake(Mutator& mutator);
  static uint64_t now_ns();

  std::mutex registry_mutex_;
  Mutator* head_ = nullptr;
  std::atomic<size_t> count_{0};
  std::atomic<size_t> blocked_{0};  // of count_, inside a BlockingRegion
  std::atomic<uint32_t> stop_requested_{0};
  const HandshakeOp* handshake_op_ = nullptr;   // set while a handshake runs
  std::atomic<uint64_t> handshake_requested_ns_{0};
  std::function<void(uint64_t, uint64_t)> pause_recorder_;
  std::function<void(Mutator&)> registration_hook_;
  std::function<void(Mutator&)> after_answer_hook_;  // test only
};

}  // namespace tricolor::gc
