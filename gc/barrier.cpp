// barrier.cpp — the barrier flags and their slow paths.
//
// The slow paths run only while a concurrent collection is marking (or, for
// weak reads, until its weak references were cleared): they hand the targets
// to the current mutator's barrier buffer, or, on a thread without a mutator,
// shade them directly under the collector's lock.
#include "barrier.h"

#include "collector.h"
#include "errors.h"
#include "mutator.h"

namespace tricolor::gc {

std::atomic<bool> g_barrier_enabled{false};
std::atomic<bool> g_weak_read_check{false};

void write_barrier_slow(const void* old_target, const void* new_target) {
  if (Mutator* self = Mutator::current()) {
    self->record_barrier(old_target, new_target);
    return;
  }
  if (Collector* collector = Collector::current()) collector->shade_from_foreign_thread(old_target, new_target);
}

void write_barrier_batch_slow(const void* const* targets, size_t count) {
  if (Mutator* self = Mutator::current()) {
    for (size_t i = 0; i < count; ++i) self->record_barrier(nullptr, targets[i]);
    return;
  }
  if (Collector* collector = Collector::current()) collector->shade_batch_from_foreign_thread(targets, count);
}

const void* weak_read_slow(const void* target) {
  Collector* collector = Collector::current();
  return collector != nullptr ? collector->weak_read_slow(target) : target;
}

}  // namespace tricolor::gc
