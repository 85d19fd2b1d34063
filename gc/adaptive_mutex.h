// adaptive_mutex.h — a mutex that spins briefly before it sleeps.
//
// Owns: AdaptiveMutex, for locks whose critical sections are a few hundred
// nanoseconds but whose users are many (the heap's central lists: every
// mutator's span refill and release, the sweeper, the provisioner).
// std::mutex puts a waiter to sleep at once; on a machine with more runnable
// threads than cores the woken waiter then waits for a time slice, and a
// release_span that found the heap lock taken waited 1-21 ms for it (stop 14,
// measured in stw_assign: 40-60 times per run), inside the end-of-mark
// handshake too. Spinning for a bounded time covers the common case, a holder
// that is running and about to unlock; a holder that was preempted is waited
// for asleep, as before.
// Invariant: the lock word is 0 (free), 1 (held, nobody asleep) or 2 (held,
// a waiter may be asleep: unlock must wake one). Acquire on lock, release on
// unlock, so ThreadSanitizer sees the critical sections ordered.
#pragma once

#include <atomic>

namespace tricolor::gc {

class AdaptiveMutex {
 public:
  // About 2-4 µs of spinning before sleeping (a `pause` is 10-40 ns).
  static constexpr int kSpins = 128;

  void lock() {
    for (int spin = 0; spin < kSpins; ++spin) {
      int expected = 0;
      if (word_.load(std::memory_order_relaxed) == 0 &&
          word_.compare_exchange_weak(expected, 1, std::memory_order_acquire, std::memory_order_relaxed))
        return;
      relax();
    }
    // Sleep until woken; whoever takes the lock from here marks it
    // "waiters may sleep", since it cannot know whether it was the last.
    while (word_.exchange(2, std::memory_order_acquire) != 0) word_.wait(2, std::memory_order_relaxed);
  }

  bool try_lock() {
    int expected = 0;
    return word_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }

  void unlock() {
    if (word_.exchange(0, std::memory_order_release) == 2) word_.notify_one();
  }

 private:
  static void relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  std::atomic<int> word_{0};
};

}  // namespace tricolor::gc
