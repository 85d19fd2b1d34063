// marker.cpp — marking (see marker.h for colours and invariants).
#include "marker.h"

#include <cstdio>
#include <string>

#include "errors.h"

namespace tricolor::gc {

void Marker::report_bad_pointer(const void* object, const char* problem) const {
  char address[32];
  std::snprintf(address, sizeof address, "%p", object);
  fatal(std::string("marking: pointer ") + address + " " + problem + " (held by " +
        (holder_ != nullptr ? holder_->name : "a root") +
        "): a trace function visits a field that is not a managed object, or an object "
        "was used after it became unreachable");
}

void Marker::visit_object(const void* object) {
  if (object == nullptr) return;
  Span* span = heap_.span_of(object);
  if constexpr (kChecked) {
    if (span == nullptr) report_bad_pointer(object, "is outside the managed heap");
    const uintptr_t offset = reinterpret_cast<uintptr_t>(object) - kHeaderBytes - span->base;
    if (span->is_large() ? offset != 0 : offset % span->slot_bytes != 0)
      report_bad_pointer(object, "points inside an object, not at its start");
    if (!span->is_allocated(span->slot_index(object)))
      report_bad_pointer(object, "points at a free slot");
  }
  if (!span->try_mark_exclusive(span->slot_index(object))) return;
  ++marked_objects_;
  grey_.push_back(object);
}

void Marker::visit_weak_slot(std::atomic<void*>* slot) { weak_slots_.push_back(slot); }

void Marker::drain() {
  const void* ring[kPrefetchDistance];
  size_t head = 0;
  size_t queued = 0;
  for (;;) {
    while (queued < kPrefetchDistance && !grey_.empty()) {
      const void* object = grey_.back();
      grey_.pop_back();
      __builtin_prefetch(header_of(object));
      ring[(head + queued++) % kPrefetchDistance] = object;
    }
    if (queued == 0) break;
    const void* object = ring[head];
    head = (head + 1) % kPrefetchDistance;
    --queued;
    holder_ = header_of(object)->type;
    if (holder_->trace != nullptr) holder_->trace(object, *this);
  }
  holder_ = nullptr;
}

bool Marker::is_marked(const void* object) const {
  Span* span = heap_.span_of(object);
  return span != nullptr && span->is_marked(span->slot_index(object));
}

void Marker::clear_dead_weak_slots() {
  for (std::atomic<void*>* slot : weak_slots_) {
    void* target = slot->load(std::memory_order_relaxed);
    if (target != nullptr && !is_marked(target)) slot->store(nullptr, std::memory_order_relaxed);
  }
  weak_slots_.clear();
}

}  // namespace tricolor::gc
