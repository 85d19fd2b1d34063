// world.cpp — the stop protocol (see world.h for the invariants).
#include "world.h"

#include <chrono>
#include <thread>

#include "mutator.h"

namespace tricolor::gc {

Mutator* World::next_of(Mutator* mutator) { return mutator->next_; }

void World::add(Mutator* mutator) {
  std::lock_guard lock(registry_mutex_);
  mutator->next_ = head_;
  mutator->previous_ = nullptr;
  if (head_ != nullptr) head_->previous_ = mutator;
  head_ = mutator;
  count_.fetch_add(1, std::memory_order_relaxed);
  if (registration_hook_) registration_hook_(*mutator);
}

void World::remove(Mutator* mutator) {
  // The caller is blocked, so a collector does not wait for it while it waits
  // here for the registry lock.
  std::lock_guard lock(registry_mutex_);
  if (mutator->previous_ != nullptr) mutator->previous_->next_ = mutator->next_;
  else head_ = mutator->next_;
  if (mutator->next_ != nullptr) mutator->next_->previous_ = mutator->previous_;
  count_.fetch_sub(1, std::memory_order_relaxed);
  blocked_.fetch_sub(1, std::memory_order_relaxed);  // it left blocked
}

void World::stop(Mutator* self) {
  registry_mutex_.lock();
  stop_requested_.store(1, std::memory_order_seq_cst);
  for (Mutator* m = head_; m != nullptr; m = m->next_)
    if (m != self) m->poll_.fetch_or(kPollStop, std::memory_order_seq_cst);
  for (Mutator* m = head_; m != nullptr; m = m->next_)
    if (m != self) wait_until_stopped(*m);
}

void World::wait_until_stopped(Mutator& mutator) {
  // Spin briefly (a polling mutator answers within microseconds), then sleep
  // on the status word; park() and enter_blocking() notify it.
  for (int spin = 0; spin < 2000; ++spin) {
    if (mutator.status_.load(std::memory_order_seq_cst) != MutatorStatus::kRunning) return;
    if (spin > 100) std::this_thread::yield();
  }
  while (mutator.status_.load(std::memory_order_seq_cst) == MutatorStatus::kRunning)
    mutator.status_.wait(MutatorStatus::kRunning, std::memory_order_seq_cst);
}

void World::start() {
  for (Mutator* m = head_; m != nullptr; m = m->next_) m->poll_.fetch_and(~kPollStop, std::memory_order_seq_cst);
  stop_requested_.store(0, std::memory_order_seq_cst);
  stop_requested_.notify_all();
  registry_mutex_.unlock();
}

void World::park(Mutator& mutator) {
  for (;;) {
    mutator.status_.store(MutatorStatus::kParked, std::memory_order_seq_cst);
    mutator.status_.notify_all();
    while (stop_requested_.load(std::memory_order_seq_cst) != 0)
      stop_requested_.wait(1, std::memory_order_seq_cst);
    mutator.status_.store(MutatorStatus::kRunning, std::memory_order_seq_cst);
    if (stop_requested_.load(std::memory_order_seq_cst) == 0) return;
  }
}

void World::enter_blocking(Mutator& mutator) {
  blocked_.fetch_add(1, std::memory_order_relaxed);
  mutator.status_.store(MutatorStatus::kBlocked, std::memory_order_seq_cst);
  mutator.status_.notify_all();
}

void World::leave_blocking(Mutator& mutator) {
  // A claimed mutator waits until the collector gives it back.
  for (;;) {
    MutatorStatus expected = MutatorStatus::kBlocked;
    if (mutator.status_.compare_exchange_strong(expected, MutatorStatus::kRunning, std::memory_order_seq_cst)) {
      blocked_.fetch_sub(1, std::memory_order_relaxed);
      break;
    }
    mutator.status_.wait(MutatorStatus::kClaimed, std::memory_order_seq_cst);
  }
  if (stop_requested_.load(std::memory_order_seq_cst) != 0) park(mutator);
}

uint64_t World::now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

void World::handshake(const HandshakeOp& op, Mutator* self) {
  std::lock_guard lock(registry_mutex_);
  handshake_op_ = &op;
  handshake_requested_ns_.store(now_ns(), std::memory_order_relaxed);
  for (Mutator* m = head_; m != nullptr; m = m->next_) {
    if (m == self) continue;
    m->handshake_pending_.store(1, std::memory_order_seq_cst);
    m->poll_.fetch_or(kPollHandshake, std::memory_order_seq_cst);
  }
  if (self != nullptr) op(*self);
  for (Mutator* m = head_; m != nullptr; m = m->next_)
    if (m != self) wait_for_handshake(*m);
  handshake_op_ = nullptr;
}

void World::wait_for_handshake(Mutator& mutator) {
  for (int round = 0;; ++round) {
    if (mutator.handshake_pending_.load(std::memory_order_acquire) == 0) return;
    MutatorStatus expected = MutatorStatus::kBlocked;
    if (mutator.status_.compare_exchange_strong(expected, MutatorStatus::kClaimed, std::memory_order_seq_cst)) {
      if (mutator.handshake_pending_.load(std::memory_order_acquire) != 0) {
        (*handshake_op_)(mutator);
        mutator.poll_.fetch_and(~kPollHandshake, std::memory_order_seq_cst);
        mutator.handshake_pending_.store(0, std::memory_order_release);
      }
      mutator.status_.store(MutatorStatus::kBlocked, std::memory_order_seq_cst);
      mutator.status_.notify_all();
      return;
    }
    // The mutator is running: it answers at its next poll.
    if (round < 64) continue;
    if (round < 1024) std::this_thread::yield();
    else std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

void World::answer_handshake(Mutator& mutator) {
  if (mutator.handshake_pending_.load(std::memory_order_acquire) == 0) return;
  // Read before the pending flag is cleared: once it is, the collector may
  // request the next handshake and overwrite the time (read after, it made
  // the time to safepoint negative: 2^64 ns in a benchmark's table).
  const uint64_t requested = handshake_requested_ns_.load(std::memory_order_relaxed);
  const uint64_t started = now_ns();
  (*handshake_op_)(mutator);
  const uint64_t finished = now_ns();
  mutator.poll_.fetch_and(~kPollHandshake, std::memory_order_seq_cst);
  mutator.handshake_pending_.store(0, std::memory_order_release);
  if (after_answer_hook_) [[unlikely]] after_answer_hook_(mutator);
  if (pause_recorder_) pause_recorder_(started - requested, finished - started);
}

}  // namespace tricolor::gc
