// heap.h — the managed heap: arenas from mimalloc, spans, large objects.
//
// Owns: every byte of managed memory. Arenas (64 MiB) come from mimalloc and
// are carved into 64 KiB spans of one span class (a size class, or one type:
// typed_classes.h); a large object (above kMaxSmallBytes) gets a span of its
// own, also from mimalloc. Central lists hold the spans no mutator cache owns
// (partial spans per span class, free spans, released spans); the page map
// finds the span of any address.
// Invariants:
//  - every span is in exactly one place: a cache, a central list, or (full)
//    nowhere but its arena's descriptor array; state says which.
//  - arena_bytes == in_use_span_bytes + free_span_bytes + released_span_bytes
//    at every point where the heap lock is released (the stats test checks it).
//  - arena memory is committed and released in whole huge pages: the
//    kSpansPerHugePage spans of one are all kReleased or none is, so no
//    release splits a huge page (and khugepaged, which collapses only ranges
//    with a page present, never refills a released one).
//  - memory handed out as "zero" really is zero: fresh and released memory is
//    zero because the kernel zero-fills pages after MADV_DONTNEED; a span that
//    held objects is marked needs_zero and its slots are cleared on reuse;
//    a released span a provisioning job populated is still zero (populating
//    never writes) and becomes kFree without needs_zero.
// Locking: one mutex guards the lists and counters; the allocation fast path
// (gc/mutator.h) never takes it, nor do release_free_memory's madvise calls
// (tests/gc/heap_test.cpp checks this through a test hook), nor does
// building an arena (mimalloc, madvise, ~1 MB of descriptors first touched),
// which a provisioning job does ahead of need.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "page_map.h"
#include "prefault.h"
#include "span.h"
#include "typed_classes.h"

namespace tricolor::gc {

inline constexpr size_t kArenaBytes = size_t{64} << 20;
inline constexpr size_t kSpansPerArena = kArenaBytes / kSpanBytes;

// The spans of one transparent huge page (2 MiB, aligned in the arena): the
// unit in which arena memory is committed, populated and released.
inline constexpr size_t kSpansPerHugePage = kHugePageBytes / kSpanBytes;

// With a provisioner, the next arena is built when fewer released spans than
// this (8 MiB) are left.
inline constexpr size_t kGrowAheadSpans = 4 * kSpansPerHugePage;

class Arena {
 public:
  uintptr_t base = 0;
  Span* spans = nullptr;  // kSpansPerArena descriptors
  size_t empty_spans = 0;  // spans in state kFree or kReleased
  size_t prefaulting = 0;  // provisioning jobs queued on it: not freed meanwhile (heap lock)
  Arena* next = nullptr;
};

class Provisioner;

// A doubly linked list of spans through Span::next/prev.
class SpanList {
 public:
  bool empty() const { return head_ == nullptr; }
  Span* front() const { return head_; }
  size_t size() const { return size_; }
  void push(Span* span);
  void remove(Span* span);
  Span* pop();

 private:
  Span* head_ = nullptr;
  size_t size_ = 0;
};

// Byte counts the collector's stats and the pacer read. Memory is accounted
// in three disjoint groups that add up to what mimalloc gave us:
// arena_bytes + large_bytes + metadata_bytes.
struct HeapCounters {
  size_t arena_bytes = 0;          // reserved from mimalloc for arenas
  size_t in_use_span_bytes = 0;    // spans serving a size class (cached, partial, full)
  size_t free_span_bytes = 0;      // empty spans, memory still committed
  size_t released_span_bytes = 0;  // empty spans, memory given back to the OS
  size_t large_bytes = 0;          // large-object spans
  size_t metadata_bytes = 0;       // span descriptors and page-map leaves
  size_t released_total_bytes = 0; // cumulative bytes returned to the OS / mimalloc
  size_t arenas = 0;
  size_t large_objects = 0;
};

struct SweepTotals {
  size_t live_bytes = 0;
  size_t freed_bytes = 0;
  size_t live_objects = 0;
  size_t freed_objects = 0;
};

class Heap {
 public:
  Heap() = default;
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;
  ~Heap();

  // A span of span class `cls` (a size class, or a typed class from
  // typed_classes()) with at least one free slot, now owned by the caller's
  // cache. Adds its free bytes to allocated_bytes (refunded by release_span
  // for what stays unused).
  Span* acquire_span(uint16_t cls);
  // The cache gives a span back (it is exhausted, or the cache is flushed).
  void release_span(Span* span);
  // As release_span for `count` (at most kNumSpanClasses) spans, under one
  // lock acquisition (a mutator's whole cache at the end of a mark, inside
  // its handshake).
  void release_spans(Span* const* spans, size_t count);

  // With a provisioner, the heap keeps a huge page of resident empty spans
  // ahead of allocation: when fewer than kSpansPerHugePage are free,
  // `provisioner`'s thread populates the huge page allocation commits next
  // (null: every huge page is faulted in by the mutator that first touches
  // it). Set before the heap is shared.
  void set_provisioner(Provisioner* provisioner) { provisioner_ = provisioner; }
  // The provisioning job that builds the next arena, queued when fewer than
  // kGrowAheadSpans released spans are left, so that allocation seldom
  // builds one itself.
  void grow_ahead();
  // The provisioning job of the huge page whose first span is `first`, in
  // `arena`: populates it and commits it (its released spans become free,
  // resident and zero).
  void prefault_huge_page(Arena* arena, Span* first);

  // A zeroed large object of `object_bytes` (header included) in its own span.
  uintptr_t allocate_large(size_t slot_bytes);

  Span* span_of(const void* address) const { return page_map_.lookup(address); }
  // The type of a managed object (from its typed span, or its header).
  const TypeInfo* type_of(const void* object) const { return span_of(object)->type_of(object); }

  // ---- sweeping (Go's sweep generations, see span.h) ----
  // World stopped, every cache flushed, marking complete: every span and
  // large object becomes "needs sweeping". `lazy_allowed`: allocation may
  // sweep a span it takes (false until weak references are cleared, so that
  // no slot a weak reference points at is reused before it is nulled).
  void begin_sweep_cycle(bool poison, bool lazy_allowed);
  void allow_lazy_sweep() { lazy_sweep_allowed_.store(true, std::memory_order_release); }
  // Sweeps one unswept span or large object; false when none is left.
  bool sweep_next();
  // Sweeps everything still unswept (before the next mark may start).
  void finish_sweep() {
    while (sweep_next()) {
    }
  }
  // Totals of the current sweep cycle (complete once finish_sweep returned).
  SweepTotals sweep_totals() const;
  // True if `object` survived the last mark, or its span was already swept
  // (so `object` is whatever now lives there). For weak reads during sweeping.
  bool is_unswept_and_dead(const void* object) const;
  uint32_t sweep_generation() const { return sweepgen_.load(std::memory_order_acquire); }
  // Sets the live-heap estimate (after marking: the marked bytes).
  void reset_heap_live(size_t bytes) { heap_live_bytes_.store(bytes, std::memory_order_relaxed); }

  // Stop-the-world convenience: begin_sweep_cycle + finish_sweep.
  SweepTotals sweep_all(bool poison);
  // Gives empty spans back to the OS, in whole huge pages (and whole empty
  // arenas back to mimalloc), while more than `retain_bytes` of empty
  // committed spans remain (the last page may take it below that). Free spans
  // of a huge page with a span in use stay committed.
  void release_free_memory(size_t retain_bytes);

  // ---- test hooks (tests/gc/heap_test.cpp); unused, they cost one branch ----
  // Test only: called by release_free_memory right before each madvise; set it before the heap is shared.
  void set_before_release_hook_for_test(std::function<void()> hook) { before_release_hook_ = std::move(hook); }
  // Test only: called by build_arena before it builds; set it before the heap is shared.
  void set_arena_build_hook_for_test(std::function<void()> hook) { arena_build_hook_ = std::move(hook); }
  // Test only: called right before provisioning jobs are submitted; set it before the heap is shared.
  void set_submit_hook_for_test(std::function<void()> hook) { submit_hook_ = std::move(hook); }
  // Test only: true if the heap lock is free right now. Call it from a thread that does not hold it.
  bool lock_is_free_for_test() const {
    for (int attempt = 0; attempt < 1000; ++attempt) {  // try_lock may fail spuriously
      if (mutex_.try_lock()) {
        mutex_.unlock();
        return true;
      }
    }
    return false;
  }

  HeapCounters counters() const;
  // Bytes in allocated slots and large objects since the last sweep, plus the
  // live bytes that sweep found: the pacer's "heap live".
  size_t heap_live_bytes() const { return heap_live_bytes_.load(std::memory_order_relaxed); }
  size_t allocated_total_bytes() const { return allocated_total_bytes_.load(std::memory_order_relaxed); }
  size_t freed_total_bytes() const { return freed_total_bytes_.load(std::memory_order_relaxed); }

 private:
  // An empty span; the lock is held on entry and exit, dropped meanwhile if
  // a new arena must be built.
  Span* take_empty_span(std::unique_lock<std::mutex>& lock);
  void provision_ahead_locked();
  // Provisioning jobs are decided under the heap lock and submitted after it
  // is released: submitting wakes the provisioner, which may preempt the
  // waker on a busy machine while every other refill waits for the lock
  // (stw_assign: refills held it over 200 µs 77 times per run while they
  // submitted under it, 8-13 times after; bench/RESULTS.md, stop 14).
  void queue_provisioning_locked(std::shared_ptr<DeferredWork> job);
  void submit_provisioning();  // without the heap lock
  static Span* first_of_huge_page(Span* span);
  // Released spans of the huge page starting at `first` become free (zero).
  void commit_huge_page_locked(Span* first);
  // Without the heap lock. The first arena keeps 4 KiB pages: a heap that
  // fits in it gains little TLB reach from huge pages and pays their 2 MiB
  // commits (a small concurrent heap's cycles took several times longer:
  // the threads test's pacer case missed its collections 13 times in 40).
  Arena* build_arena(bool huge_pages);
  void install_arena_locked(Arena* arena);
  void grow(std::unique_lock<std::mutex>& lock);
  void free_arena_locked(Arena* arena);
  void set_state_locked(Span* span, SpanState state);
  void count_allocated(size_t bytes);
  void uncount_allocated(size_t bytes);
  Span* claim_unswept_locked();
  void sweep_claimed(Span* span);
  void place_swept_locked(Span* span, size_t live_slots);
  void sweep_large(Span* span);

  mutable std::mutex mutex_;
  // Serializes release_free_memory(): two cycles can finish at once (a stop-
  // the-world collect() from another thread), and one's run of spans is off
  // the free list but not yet released while it sits in madvise.
  std::mutex release_mutex_;
  std::mutex grow_mutex_;  // one arena built at a time by allocation (grow)
  bool growing_ahead_ = false;  // a grow_ahead job is queued (heap lock)
  std::vector<std::shared_ptr<DeferredWork>> unsubmitted_;  // heap lock
  std::atomic<bool> has_unsubmitted_{false};  // unsubmitted_ is not empty (a hint, read without the lock)
  PageMap page_map_;
  Arena* arenas_ = nullptr;
  SpanList partial_[kNumSpanClasses];  // by span class
  SpanList free_spans_;
  SpanList released_spans_;
  SpanList large_spans_;
  HeapCounters counters_;
  std::atomic<uint32_t> sweepgen_{2};
  std::atomic<bool> lazy_sweep_allowed_{true};
  bool poison_ = false;
  Arena* sweep_arena_ = nullptr;  // background sweep cursor
  size_t sweep_index_ = 0;
  SpanList unswept_large_;
  SweepTotals sweep_totals_;
  std::atomic<size_t> heap_live_bytes_{0};
  std::atomic<size_t> allocated_total_bytes_{0};
  std::atomic<size_t> freed_total_bytes_{0};
  std::function<void()> before_release_hook_;  // test only, see set_before_release_hook_for_test
  std::function<void()> arena_build_hook_;     // test only, see set_arena_build_hook_for_test
  std::function<void()> submit_hook_;          // test only, see set_submit_hook_for_test
  Provisioner* provisioner_ = nullptr;
};

}  // namespace tricolor::gc
