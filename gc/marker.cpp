// marker.cpp — marking (see marker.h for colours and invariants).
#include "marker.h"

#include <cstdio>
#include <string>

#include "errors.h"

namespace tricolor::gc {

Marker::Marker(Heap& heap, MarkShared& shared, bool exclusive)
    : heap_(heap), shared_(shared), exclusive_(exclusive) {}

Marker::~Marker() {
  publish();
  if (local_ != nullptr) shared_.queue.put_empty(local_);
  flush_counters();
  become_idle();
}

void Marker::report_bad_pointer(const void* object, const char* problem) const {
  char address[32];
  std::snprintf(address, sizeof address, "%p", object);
  fatal(std::string("marking: pointer ") + address + " " + problem + " (held by " +
        (holder_ != nullptr ? holder_->name : "a root") +
        "): a trace function visits a field that is not a managed object, or an object "
        "was used after it became unreachable");
}

void Marker::become_busy() {
  if (busy_) return;
  shared_.busy_markers.fetch_add(1, std::memory_order_seq_cst);
  busy_ = true;
}

void Marker::become_idle() {
  if (!busy_) return;
  shared_.busy_markers.fetch_sub(1, std::memory_order_seq_cst);
  busy_ = false;
}

void Marker::flush_counters() {
  shared_.marked_bytes.fetch_add(marked_bytes_, std::memory_order_relaxed);
  shared_.marked_objects.fetch_add(marked_objects_, std::memory_order_relaxed);
  marked_bytes_ = 0;
  marked_objects_ = 0;
  if (!weak_slots_.empty()) {
    std::lock_guard lock(shared_.weak_mutex);
    shared_.weak_slots.insert(shared_.weak_slots.end(), weak_slots_.begin(), weak_slots_.end());
    weak_slots_.clear();
  }
}

void Marker::visit_object(const void* object) {
  if (object == nullptr) return;
  Span* span = heap_.span_of(object);
  if constexpr (kChecked) {
    if (span == nullptr) report_bad_pointer(object, "is outside the managed heap");
  }
  span->acquire_geometry();
  if constexpr (kChecked) {
    const uintptr_t offset = reinterpret_cast<uintptr_t>(object) - kHeaderBytes - span->base;
    if (span->is_large() ? offset != 0 : offset % span->slot_bytes != 0)
      report_bad_pointer(object, "points inside an object, not at its start");
    if (!span->is_allocated(span->slot_index(object))) report_bad_pointer(object, "points at a free slot");
  }
  const size_t index = span->slot_index(object);
  if (!(exclusive_ ? span->try_mark_exclusive(index) : span->try_mark(index))) return;
  marked_bytes_ += span->is_large() ? span->bytes : span->slot_bytes;
  ++marked_objects_;
  push(object);
}

void Marker::push(const void* object) {
  if (local_ == nullptr) local_ = shared_.queue.take_empty();
  if (local_->full()) {
    shared_.queue.put_full(local_);
    local_ = shared_.queue.take_empty();
  }
  become_busy();
  local_->objects[local_->count++] = object;
}

void Marker::visit_weak_slot(std::atomic<void*>* slot) { weak_slots_.push_back(slot); }

bool Marker::refill_local() {
  if (local_ != nullptr && !local_->empty()) return true;
  // Busy before taking: a termination check that finds the global queue
  // empty then sees this marker busy (marker.h, work_queue.h).
  become_busy();
  WorkPacket* full = shared_.queue.take_full();
  if (full == nullptr) {
    become_idle();
    return false;
  }
  if (local_ != nullptr) shared_.queue.put_empty(local_);
  local_ = full;
  return true;
}

void Marker::publish() {
  if (local_ != nullptr && !local_->empty()) {
    shared_.queue.put_full(local_);
    local_ = nullptr;
  }
  flush_counters();
  become_idle();
}

bool Marker::drain(size_t budget_objects) {
  const void* ring[kPrefetchDistance];
  size_t head = 0;
  size_t queued = 0;
  size_t traced = 0;
  bool out_of_work = false;
  for (;;) {
    while (queued < kPrefetchDistance && refill_local()) {
      const void* object = local_->objects[--local_->count];
      __builtin_prefetch(header_of(object));
      ring[(head + queued++) % kPrefetchDistance] = object;
    }
    if (queued == 0) {
      out_of_work = true;
      break;
    }
    if (traced == budget_objects) break;
    const void* object = ring[head];
    head = (head + 1) % kPrefetchDistance;
    --queued;
    holder_ = header_of(object)->type;
    if (holder_->trace != nullptr) holder_->trace(object, *this);
    ++traced;
  }
  // Objects still in the ring are grey: back into the local packet.
  while (queued > 0) {
    push(ring[head]);
    head = (head + 1) % kPrefetchDistance;
    --queued;
  }
  holder_ = nullptr;
  traced_objects_ += traced;
  if (out_of_work) {
    flush_counters();
    become_idle();
  }
  return out_of_work;
}

bool Marker::is_marked(const void* object) const {
  Span* span = heap_.span_of(object);
  if (span == nullptr) return false;
  span->acquire_geometry();
  return span->is_marked(span->slot_index(object));
}

}  // namespace tricolor::gc
