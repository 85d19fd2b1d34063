// cpu_time.h — CPU clocks for the collector's accounting (mark CPU of the
// background markers and assists, the CPU limiter's process time).
#pragma once

#include <time.h>

#include <cstdint>

namespace tricolor::gc {

inline uint64_t cpu_clock_ns(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(now.tv_nsec);
}
inline uint64_t thread_cpu_ns() { return cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID); }
inline uint64_t process_cpu_ns() { return cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

}  // namespace tricolor::gc
