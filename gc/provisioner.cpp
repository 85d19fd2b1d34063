// provisioner.cpp — the provisioning thread (see provisioner.h).
#include "provisioner.h"

#include <pthread.h>

namespace tricolor::gc {

Provisioner::~Provisioner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeup_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Provisioner::submit(std::shared_ptr<DeferredWork> job) {
  queue_.push(std::move(job));
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) thread_ = std::thread([this] { main(); });
  }
  wakeup_.notify_all();
}

void Provisioner::hold_for_test(bool held) {
  {
    std::lock_guard lock(mutex_);
    held_ = held;
  }
  wakeup_.notify_all();
}

void Provisioner::main() {
  pthread_setname_np(pthread_self(), "tricolor-prov");  // for perf and gdb
  std::unique_lock lock(mutex_);
  for (;;) {
    wakeup_.wait(lock, [&] { return stopping_ || (!held_ && queue_.size() != 0); });
    if (stopping_) return;
    lock.unlock();
    queue_.run_one(kSliceNs);
    lock.lock();
  }
}

}  // namespace tricolor::gc
