// prefault.cpp — PrefaultWork (see prefault.h).
#include "prefault.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>

#include "visitor.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older headers lack the name
#endif

namespace tricolor::gc {
namespace {
constexpr uintptr_t kPageBytes = 4096;
}  // namespace

bool populate_pages(uintptr_t address, size_t bytes) {
  return madvise(reinterpret_cast<void*>(address), bytes, MADV_POPULATE_WRITE) == 0;
}

PrefaultWork::PrefaultWork(const void* object, size_t bytes, std::atomic<bool>& ready)
    : object_(object),
      next_(reinterpret_cast<uintptr_t>(object) & ~(kPageBytes - 1)),
      end_((reinterpret_cast<uintptr_t>(object) + bytes + kPageBytes - 1) & ~(kPageBytes - 1)),
      ready_(ready) {}

bool PrefaultWork::run(uint64_t budget_ns) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(budget_ns);
  while (next_ < end_) {
    const uintptr_t stop = std::min(end_, (next_ + kHugePageBytes) & ~(kHugePageBytes - 1));
    if (!populate_pages(next_, stop - next_)) {
      next_ = end_;  // not supported here (EINVAL): the owner goes on without it
      break;
    }
    next_ = stop;
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
  ready_.store(true, std::memory_order_release);
  return true;
}

void PrefaultWork::trace(Visitor& visitor) const { visitor.visit_object(object_); }

}  // namespace tricolor::gc
