// deferred_work.cpp — the deferred-work queue (see deferred_work.h).
#include "deferred_work.h"

#include "visitor.h"

namespace tricolor::gc {

void DeferredWorkQueue::push(std::shared_ptr<DeferredWork> item) {
  std::lock_guard lock(mutex_);
  items_.push_back(std::move(item));
  size_.fetch_add(1, std::memory_order_release);
}

bool DeferredWorkQueue::run_one(uint64_t budget_ns) {
  std::shared_ptr<DeferredWork> item;
  {
    std::lock_guard lock(mutex_);
    if (items_.empty()) return false;
    item = items_.front();  // stays queued (and traced) while it runs
  }
  const bool done = item->run(budget_ns);
  slices_run_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  items_.pop_front();
  if (done) size_.fetch_sub(1, std::memory_order_release);
  else items_.push_back(std::move(item));
  return true;
}

void DeferredWorkQueue::trace(Visitor& visitor) {
  std::lock_guard lock(mutex_);
  for (const auto& item : items_) item->trace(visitor);
}

}  // namespace tricolor::gc
