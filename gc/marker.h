// marker.h — one marker: a Visitor that greys what it visits and traces
// grey objects, exchanging work with others through the global MarkQueue.
//
// Owns: a marker's local work packet, its prefetch ring and its counters. The
// stop-the-world collector runs one marker; the concurrent collector runs one
// per background worker and one per assisting mutator, all sharing one queue.
// Colours: white = mark bit clear; grey = mark bit set, pointer in a packet or
// in this marker's ring (fields not yet visited); black = mark bit set, fields
// visited. Objects without pointers go black at once (their trace is null).
// Invariants:
//  - marking an object and making it grey is one step: try_mark() winning the
//    bit is what entitles a marker to push it, so every object is traced once;
//  - while a marker holds grey objects it counts as busy (MarkQueue users see
//    busy_markers() > 0), so termination cannot be declared under it; it
//    hands its counters, weak slots and pending ephemerons to MarkShared
//    before it turns idle;
//  - visiting a pointer touches only span metadata (page map, mark bit); the
//    object is read when traced, after the ring prefetched its header.
//  - no queue entry takes unbounded time to trace: a big ChunkTraceable
//    array is split into chunks ("oblets", as in Go) of ~2048 slots, each its
//    own entry, so assists stay short and other markers can share the array.
// In checked builds every visited pointer is validated (managed heap, object
// start, allocated slot) and a bad one stops the process naming the holder.
#pragma once

#include <atomic>
#include <mutex>
#include <cstddef>
#include <vector>

#include "heap.h"
#include "unmanaged_memory.h"
#include "visitor.h"
#include "work_queue.h"

namespace tricolor::gc {

// An ephemeron met with a white key: its value waits for the key's mark.
struct PendingEphemeron {
  std::atomic<void*>* key_slot;
  std::atomic<void*>* value_slot;
};
using PendingEphemerons = std::vector<PendingEphemeron, UnmanagedAllocator<PendingEphemeron>>;

// Shared by all markers of one cycle.
struct MarkShared {
  MarkQueue queue;
  std::atomic<int> busy_markers{0};
  std::atomic<size_t> marked_bytes{0};
  std::atomic<size_t> marked_objects{0};
  std::atomic<size_t> oblets_traced{0};  // chunks of big arrays (observability, tests)
  // Work background markers did, in traced entries, not yet claimed by an
  // assist: an allocating mutator pays its assist debt from here first (Go's
  // background scan credit), and marks itself only for what is left.
  std::atomic<size_t> background_credit{0};
  // Weak slots met by any marker this cycle, cleared after the mark if their
  // target stayed white. Appended under weak_mutex; read once marking ended.
  std::mutex weak_mutex;
  std::vector<std::atomic<void*>*, UnmanagedAllocator<std::atomic<void*>*>> weak_slots;
  // Ephemerons whose key was white when a marker met them (under weak_mutex).
  // The mark is complete only when none of them has a marked key; those left
  // after it have dead keys, cleared with the weak slots.
  PendingEphemerons ephemerons;
  // The last resolve pass found nothing at this many marked objects and
  // pending pairs: until either changes, no pending key can have been marked
  // (a mark is counted before its marker turns idle), so the pass is skipped.
  size_t unresolved_at_marked = SIZE_MAX;
  size_t unresolved_at_pending = SIZE_MAX;

  // A new cycle: counters to zero (the queue is empty between cycles).
  void reset() {
    marked_bytes.store(0, std::memory_order_relaxed);
    marked_objects.store(0, std::memory_order_relaxed);
    oblets_traced.store(0, std::memory_order_relaxed);
    background_credit.store(0, std::memory_order_relaxed);
    weak_slots.clear();
    ephemerons.clear();
    unresolved_at_marked = unresolved_at_pending = SIZE_MAX;
  }
};

// The object a mark-queue entry stands for (an object, or a chunk of one).
const void* object_of_mark_entry(const void* entry);

class Marker final : public Visitor {
 public:
  // `exclusive`: the only marker running (stop-the-world): plain mark bits.
  Marker(Heap& heap, MarkShared& shared, bool exclusive);
  Marker(const Marker&) = delete;
  Marker& operator=(const Marker&) = delete;
  ~Marker() override;

  void visit_object(const void* object) override;
  void visit_weak_slot(std::atomic<void*>* slot) override;
  void visit_ephemeron(std::atomic<void*>* key_slot, std::atomic<void*>* value_slot) override;

  // Traces grey objects (local first, then the global queue) until none is
  // left anywhere it can see, or `budget_objects` were traced. Returns true
  // when it ran out of work.
  bool drain(size_t budget_objects = SIZE_MAX);
  // As drain(), for a background marker: what it traces becomes credit that
  // assists may claim instead of marking themselves, and it tops up the
  // queue's spare empty packets (MarkQueue::replenish_empty).
  bool drain_as_background(size_t budget_objects = SIZE_MAX) {
    const size_t before = traced_objects_;
    const bool out_of_work = drain(budget_objects);
    shared_.background_credit.fetch_add(traced_objects_ - before, std::memory_order_relaxed);
    shared_.queue.replenish_empty();
    return out_of_work;
  }
  // Takes over an object another party already marked (a mutator's barrier).
  void adopt_grey(const void* object) { push(object); }
  // Hands local grey objects to the global queue, so others may take them.
  void publish();
  bool has_local_work() const { return local_ != nullptr && !local_->empty(); }

  bool is_marked(const void* object) const;
  size_t traced_objects() const { return traced_objects_; }
  // Objects this marker turned from white to grey since it was created.
  size_t greyed_objects() const { return greyed_objects_; }

 private:
  static constexpr size_t kPrefetchDistance = 16;
  void push(const void* entry);
  void trace_entry(const void* entry);
  bool refill_local();
  void become_busy();
  void become_idle();
  void flush_counters();  // also hands weak slots and pending ephemerons to MarkShared
  [[noreturn]] void report_bad_pointer(const void* object, const char* problem) const;

  Heap& heap_;
  MarkShared& shared_;
  const bool exclusive_;
  bool busy_ = false;
  WorkPacket* local_ = nullptr;
  size_t marked_bytes_ = 0;
  size_t marked_objects_ = 0;
  size_t greyed_objects_ = 0;
  size_t traced_objects_ = 0;
  const TypeInfo* holder_ = nullptr;  // the object being traced, for messages
  std::vector<std::atomic<void*>*, UnmanagedAllocator<std::atomic<void*>*>> weak_slots_;
  PendingEphemerons ephemerons_;
};

}  // namespace tricolor::gc
