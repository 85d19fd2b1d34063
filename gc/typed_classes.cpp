// typed_classes.cpp — the typed span class registry (see typed_classes.h).
#include "typed_classes.h"

namespace tricolor::gc {

uint16_t TypedClassRegistry::span_class_of(const TypeInfo* type) {
  std::lock_guard lock(mutex_);
  const size_t count = count_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < count; ++i)
    if (entries_[i].type == type) return static_cast<uint16_t>(kNumSizeClasses + i);
  if (count == capacity_) return kNoTypedClass;
  entries_[count] = TypedClass{type, size_class_index(type->size)};
  count_.store(count + 1, std::memory_order_release);
  return static_cast<uint16_t>(kNumSizeClasses + count);
}

TypedClassRegistry& typed_classes() {
  static TypedClassRegistry registry;
  return registry;
}

}  // namespace tricolor::gc
