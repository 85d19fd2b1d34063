// mutator.h — a thread that may touch the managed heap.
//
// Owns: the per-thread state the collector needs: the allocation cache (one
// span per size class, no atomics on the fast path), the safepoint poll word,
// the stop-protocol status, the root scanner, and the chain of Local handles.
// Invariants:
//  - a Mutator is used only by the thread that created it (checked builds
//    throw UsageError otherwise); another thread never reads its cache.
//  - the collector acts on a mutator only while that mutator is stopped: parked
//    in safepoint_slow() or inside a BlockingRegion (gc/world.h).
//  - between two safepoint polls the mutator does no unbounded heap work, so
//    time-to-safepoint is bounded by the embedder's polling interval.
// Embedders get a Mutator through tricolor::MutatorScope (runtime/).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <thread>
#include <utility>

#include "errors.h"
#include "heap.h"
#include "size_classes.h"
#include "span.h"
#include "type_info.h"

namespace tricolor {

class Visitor;
namespace gc {
class Collector;
class World;
}  // namespace gc

// A node in the mutator's chain of Local handles (see local.h).
struct LocalRootNode {
  const void* object;
  LocalRootNode* previous;
};

enum class MutatorStatus : uint32_t {
  kRunning,   // may touch the heap at any moment
  kBlocked,   // inside a BlockingRegion: will not touch the heap
  kParked,    // stopped at a safepoint until the world restarts
  kClaimed,   // blocked, and the collector is doing its handshake for it
};

// Bits of the safepoint poll word.
inline constexpr uint32_t kPollStop = 1;       // the world is stopping: park
inline constexpr uint32_t kPollHandshake = 2;  // run the collector's handshake

class Mutator {
 public:
  explicit Mutator(gc::Collector& collector);
  Mutator(const Mutator&) = delete;
  Mutator& operator=(const Mutator&) = delete;
  ~Mutator();

  // The safepoint poll: one relaxed load and a not-taken branch. Interpreters
  // call it at loop back-edges and calls; allocation slow paths call it too.
  // A stop or a handshake waits for this mutator's next safepoint.
  bool safepoint_requested() const { return poll_.load(std::memory_order_relaxed) != 0; }
  void safepoint() {
    if (poll_.load(std::memory_order_relaxed) != 0) [[unlikely]] safepoint_slow();
  }

  // Zeroed storage for an object of `payload_bytes` whose header says `type`.
  // Fast path: a table lookup, a bitmap scan, two stores; no lock, no atomic
  // read-modify-write, no clearing (a cached span's free slots are zero: the
  // heap clears them in bulk when it hands the span out). May collect (from
  // the refill slow path).
  void* allocate(size_t payload_bytes, const TypeInfo* type) {
    if constexpr (kChecked) check_thread("allocate");
    const size_t slot_bytes = payload_bytes + gc::kHeaderBytes;
    if (slot_bytes > gc::kMaxSmallBytes) [[unlikely]] return allocate_large(slot_bytes, type);
    const uint8_t cls = gc::size_class_index(slot_bytes);
    auto [span, slot] = take_slot(cls);
    if (type->destroy != nullptr) span->has_destructors = true;
    reinterpret_cast<gc::ObjectHeader*>(slot)->type = type;
    void* object = gc::object_of_slot(slot);
    if (allocate_black_.load(std::memory_order_relaxed)) [[unlikely]] mark_new_object(span, object);
    return object;
  }
  // Zeroed storage for one object of a typed span class (gc/typed_classes.h):
  // no header, the span says the type. The same fast path as allocate().
  void* allocate_typed(uint16_t span_class) {
    if constexpr (kChecked) check_thread("allocate");
    auto [span, slot] = take_slot(span_class);
    void* object = reinterpret_cast<void*>(slot);
    if (allocate_black_.load(std::memory_order_relaxed)) [[unlikely]] mark_new_object(span, object);
    return object;
  }

  // Write-barrier slow path (gc/barrier.cpp): shades both targets at once
  // (mark bit set, counted) and keeps the ones it turned grey in a buffer of
  // greys that handshakes hand to the markers; already-marked targets cost a
  // page-map lookup and a load.
  void record_barrier(const void* old_target, const void* new_target) {
    if (old_target != nullptr) shade(old_target);
    if (new_target != nullptr) shade(new_target);
  }
  // Turns `object` grey if it is white; true if it did.
  bool shade(const void* object);

  // Like allocate(), for a big object that must not stall its caller: its
  // assist debt is not paid before it is taken but deferred, to be paid in
  // bounded batches (Collector::pay_deferred_debt). Fresh large
  // objects come from memory the OS zeroed: no memset on this thread.
  void* allocate_with_deferred_assist(size_t payload_bytes, const TypeInfo* type) {
    if constexpr (kChecked) check_thread("allocate");
    const size_t slot_bytes = payload_bytes + gc::kHeaderBytes;
    if (slot_bytes <= gc::kMaxSmallBytes) return allocate(payload_bytes, type);
    return allocate_large(slot_bytes, type, /*defer_assist=*/true);
  }

  // The embedder's roots: called with the collector's visitor while this
  // mutator is stopped. Visit every managed pointer the thread holds outside
  // the heap (an interpreter's value stack and registers).
  void set_root_scanner(std::function<void(Visitor&)> scanner) { root_scanner_ = std::move(scanner); }

  // While blocked, the collector does not wait for this thread; it must not
  // touch the heap (use BlockingRegion rather than calling these directly).
  void enter_blocking();
  void leave_blocking();

  // The mutator of the calling thread, or null.
  static Mutator* current();

  gc::Collector& collector() const { return collector_; }
  bool is_blocked() const { return status_.load(std::memory_order_relaxed) == MutatorStatus::kBlocked; }

  // Throws UsageError unless called on the owning thread.
  void check_thread(const char* operation) const;

  // ---- used by the collector (gc/) only, on the owning thread or while
  // this mutator is stopped or claimed ----
  void scan_roots(Visitor& visitor);
  // Hands the grey objects the barrier buffered to `publish` and empties the buffer.
  template <class Publish>
  void drain_barrier_buffer(Publish&& publish) {
    for (size_t i = 0; i < barrier_count_; ++i) publish(barrier_buffer_[i]);
    barrier_count_ = 0;
  }
  void flush_barrier_buffer();
  size_t barrier_buffer_entries() const { return barrier_count_; }
  // The buffered greys, left in place (the invariant check, gc/verifier.h).
  template <class Visit>
  void for_each_buffered(Visit&& visit) const {
    for (size_t i = 0; i < barrier_count_; ++i) visit(barrier_buffer_[i]);
  }
  // Set by the collector: this mutator's roots were scanned in the running
  // mark (its stack is black), or it registered after the mark began.
  bool roots_scanned() const { return roots_scanned_; }
  void set_roots_scanned(bool scanned) { roots_scanned_ = scanned; }
  // Allocate black from now on, in spans of sweep generation `epoch` (those
  // of the cycle being marked); or stop.
  void set_allocate_black(bool on, uint32_t epoch = 0) {
    black_epoch_ = epoch;
    allocate_black_.store(on, std::memory_order_relaxed);
  }
  size_t take_black_allocated_bytes() { return std::exchange(black_allocated_bytes_, 0); }
  size_t& assist_debt_objects() { return assist_debt_objects_; }
  size_t& deferred_debt_objects() { return deferred_debt_objects_; }
  size_t& deferred_debt_calls() { return deferred_debt_calls_; }
  void flush_allocation_cache();
  LocalRootNode*& local_roots() { return local_roots_; }
  void push_constructing(const void* object) {
    if (constructing_depth_ == kMaxConstructionDepth) [[unlikely]] throw_construction_too_deep();
    constructing_[constructing_depth_++] = object;
  }
  void pop_constructing() { --constructing_depth_; }

 private:
  friend class gc::World;
  void safepoint_slow();
  [[noreturn]] static void throw_construction_too_deep();
  struct TakenSlot {
    gc::Span* span;
    uintptr_t slot;
  };
  TakenSlot take_slot(uint16_t span_class) {
    gc::Span* span = cache_[span_class];
    uintptr_t slot = span != nullptr ? span->take_free_slot() : 0;
    if (slot == 0) [[unlikely]] {
      slot = refill_and_take(span_class);
      span = cache_[span_class];
    }
    return {span, slot};
  }
  uintptr_t refill_and_take(uint16_t span_class);
  void* allocate_large(size_t slot_bytes, const TypeInfo* type, bool defer_assist = false);
  void mark_new_object(gc::Span* span, const void* object);

  gc::Collector& collector_;
  gc::Heap& heap_;
  std::atomic<uint32_t> poll_{0};
  std::atomic<MutatorStatus> status_{MutatorStatus::kRunning};
  std::atomic<bool> allocate_black_{false};
  std::atomic<uint32_t> handshake_pending_{0};
  static constexpr size_t kBarrierBufferEntries = 256;
  size_t barrier_count_ = 0;
  const void* barrier_buffer_[kBarrierBufferEntries];
  bool roots_scanned_ = false;  // written by the thread handling its handshake
  size_t black_allocated_bytes_ = 0;
  uint32_t black_epoch_ = 0;
  size_t assist_debt_objects_ = 0;
  size_t deferred_debt_objects_ = 0;  // see allocate_with_deferred_assist
  size_t deferred_debt_calls_ = 0;    // Collector::pay_deferred_debt's period
  gc::Span* cache_[gc::kNumSpanClasses] = {};  // by span class (gc/typed_classes.h)
  LocalRootNode* local_roots_ = nullptr;
  static constexpr size_t kMaxConstructionDepth = 64;
  const void* constructing_[kMaxConstructionDepth] = {};
  size_t constructing_depth_ = 0;
  std::function<void(Visitor&)> root_scanner_;
  std::thread::id owner_;
  Mutator* previous_ = nullptr;  // World's registry links
  Mutator* next_ = nullptr;
};

// Marks code that will not touch the managed heap (a blocking read, a long
// computation on unmanaged data): the collector does not wait for this thread.
class BlockingRegion {
 public:
  explicit BlockingRegion(Mutator& mutator) : mutator_(mutator) { mutator_.enter_blocking(); }
  BlockingRegion(const BlockingRegion&) = delete;
  BlockingRegion& operator=(const BlockingRegion&) = delete;
  ~BlockingRegion() { mutator_.leave_blocking(); }

 private:
  Mutator& mutator_;
};

}  // namespace tricolor
