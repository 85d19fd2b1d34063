// marker.cpp — marking (see marker.h for colours and invariants).
#include "marker.h"

#include <algorithm>
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
  if (!weak_slots_.empty() || !ephemerons_.empty()) {
    std::lock_guard lock(shared_.weak_mutex);
    shared_.weak_slots.insert(shared_.weak_slots.end(), weak_slots_.begin(), weak_slots_.end());
    shared_.ephemerons.insert(shared_.ephemerons.end(), ephemerons_.begin(), ephemerons_.end());
    weak_slots_.clear();
    ephemerons_.clear();
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
    if (span->offset_in_object(object) != 0) report_bad_pointer(object, "points inside an object, not at its start");
    if (!span->is_allocated(span->slot_index(object))) report_bad_pointer(object, "points at a free slot");
  }
  const size_t index = span->slot_index(object);
  if (!(exclusive_ ? span->try_mark_exclusive(index) : span->try_mark(index))) return;
  marked_bytes_ += span->is_large() ? span->bytes : span->slot_bytes;
  ++marked_objects_;
  ++greyed_objects_;
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

// A marked key: the value is an ordinary edge. A white key: pending, until
// the key is marked (the collector resolves pending pairs before ending the
// mark) or the mark ends without it (the key died).
void Marker::visit_ephemeron(std::atomic<void*>* key_slot, std::atomic<void*>* value_slot) {
  const void* key = key_slot->load(std::memory_order_acquire);
  if (key == nullptr) return;
  if (is_marked(key)) visit_object(value_slot->load(std::memory_order_relaxed));
  else ephemerons_.push_back(PendingEphemeron{key_slot, value_slot});
}

bool Marker::refill_local() {
  if (local_ != nullptr && !local_->empty()) return true;
  // Busy before taking: a termination check that finds the global queue
  // empty then sees this marker busy (marker.h, work_queue.h).
  become_busy();
  WorkPacket* full = shared_.queue.take_full();
  // Nothing to take: still busy — drain() may hold entries in its prefetch
  // ring, and only it knows when the marker is out of work.
  if (full == nullptr) return false;
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

// ---- oblets: a chunk of a big ChunkTraceable object, as one queue entry.
// A large object starts kHeaderBytes into its 64 KiB-aligned span, so the
// entry keeps the span base in the high bits, the chunk index in bits 4..15
// and a 1 in bit 0 (object pointers are 8-aligned: bit 0 is free).
namespace {
constexpr size_t kObletSlots = 2048;        // ~16 KiB of pointers: ~10 µs of tracing
constexpr size_t kMaxOblets = 4096;         // chunk index bits
constexpr uintptr_t kObletTag = 1;

bool is_oblet(const void* entry) { return reinterpret_cast<uintptr_t>(entry) & kObletTag; }
const void* oblet_entry(const void* object, size_t chunk) {
  const uintptr_t base = reinterpret_cast<uintptr_t>(object) - kHeaderBytes;
  return reinterpret_cast<const void*>(base | (chunk << 4) | kObletTag);
}
const void* oblet_object(const void* entry) {
  return object_of_slot(reinterpret_cast<uintptr_t>(entry) & ~(kSpanBytes - 1));
}
size_t oblet_chunk(const void* entry) { return (reinterpret_cast<uintptr_t>(entry) >> 4) & (kMaxOblets - 1); }
size_t oblet_slots(size_t slot_count) {
  return std::max(kObletSlots, (slot_count + kMaxOblets - 1) / kMaxOblets);
}
}  // namespace

const void* object_of_mark_entry(const void* entry) { return is_oblet(entry) ? oblet_object(entry) : entry; }

// Traces one queue entry: an object, or one chunk of a big array. A big
// ChunkTraceable array in a large span is split on first sight: its other
// chunks go to the queue, where other markers may take them.
void Marker::trace_entry(const void* entry) {
  if (is_oblet(entry)) {
    const void* object = oblet_object(entry);
    const TypeInfo* type = header_of(object)->type;
    holder_ = type;
    const size_t count = type->trace_slot_count(object);
    const size_t per_chunk = oblet_slots(count);
    const size_t first = oblet_chunk(entry) * per_chunk;
    type->trace_slots(object, first, std::min(count, first + per_chunk), *this);
    shared_.oblets_traced.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const Span* span = heap_.span_of(entry);
  const TypeInfo* type = span->type_of(entry);
  holder_ = type;
  if (type->trace == nullptr) return;
  if (type->trace_slots != nullptr) {
    const size_t count = type->trace_slot_count(entry);
    const size_t per_chunk = oblet_slots(count);
    if (count > per_chunk && span->is_large()) {
      const size_t chunks = (count + per_chunk - 1) / per_chunk;
      for (size_t chunk = chunks - 1; chunk >= 1; --chunk) push(oblet_entry(entry, chunk));
      type->trace_slots(entry, 0, per_chunk, *this);
      shared_.oblets_traced.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  type->trace(entry, *this);
}

bool Marker::drain(size_t budget_objects) {
  const void* ring[kPrefetchDistance];
  size_t head = 0;
  size_t queued = 0;
  size_t traced = 0;
  bool out_of_work = false;
  for (;;) {
    while (queued < kPrefetchDistance && refill_local()) {
      const void* entry = local_->objects[--local_->count];
      // The object and, outside typed spans, its header (most often one line).
      const void* object = is_oblet(entry) ? oblet_object(entry) : entry;
      __builtin_prefetch(object);
      __builtin_prefetch(header_of(object));
      ring[(head + queued++) % kPrefetchDistance] = entry;
    }
    if (queued == 0) {
      out_of_work = true;
      break;
    }
    if (traced == budget_objects) break;
    const void* entry = ring[head];
    head = (head + 1) % kPrefetchDistance;
    --queued;
    trace_entry(entry);
    ++traced;
  }
  // Entries still in the ring are grey: back into the local packet.
  while (queued > 0) {
    push(ring[head]);
    head = (head + 1) % kPrefetchDistance;
    --queued;
  }
  holder_ = nullptr;
  traced_objects_ += traced;
  if (out_of_work) {
    // Counters, weak slots and pending ephemerons go to MarkShared before
    // the marker turns idle: a termination round that sees no busy marker
    // must see every ephemeron met so far.
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
