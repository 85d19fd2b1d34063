// roots.cpp — the global root registry (see roots.h).
#include "roots.h"

#include "visitor.h"

namespace tricolor::gc {

RootRegistry& global_roots() {
  static RootRegistry registry;
  return registry;
}

void RootRegistry::add(RootNode*& head, RootNode* node) {
  std::lock_guard lock(mutex_);
  node->previous = nullptr;
  node->next = head;
  if (head != nullptr) head->previous = node;
  head = node;
}

void RootRegistry::remove(RootNode*& head, RootNode* node) {
  std::lock_guard lock(mutex_);
  if (node->previous != nullptr) node->previous->next = node->next;
  else head = node->next;
  if (node->next != nullptr) node->next->previous = node->previous;
}

void RootRegistry::trace_strong(Visitor& visitor) {
  std::lock_guard lock(mutex_);
  for (RootNode* node = strong_; node != nullptr; node = node->next)
    visitor.visit_object(node->object.load(std::memory_order_relaxed));
}

void RootRegistry::clear_dead_weak(const std::function<bool(const void*)>& is_live) {
  std::lock_guard lock(mutex_);
  for (RootNode* node = weak_; node != nullptr; node = node->next) {
    void* target = node->object.load(std::memory_order_relaxed);
    // The owner may assign meanwhile: clear only the value judged dead.
    if (target != nullptr && !is_live(target))
      node->object.compare_exchange_strong(target, nullptr, std::memory_order_relaxed);
  }
}

size_t RootRegistry::strong_count() {
  std::lock_guard lock(mutex_);
  size_t count = 0;
  for (RootNode* node = strong_; node != nullptr; node = node->next) ++count;
  return count;
}

}  // namespace tricolor::gc
