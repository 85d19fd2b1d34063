// barrier.h — the write-barrier hook every managed-pointer store goes through.
//
// Owns: the global "barrier enabled" flag and the inline fast path. Every store
// of a managed pointer into a managed object (Member<T> assignment, the map's
// slot stores, an embedder's tagged-value store via write_barrier()) calls
// write_barrier(old, new) before the store. While the collector is not
// marking, the fast path is one relaxed load and a predictable branch.
// Invariant (kept by the collector, gc/collector.cpp): the flag is set from
// before the first object is traced until the mark is proven complete; the
// slow path then shades both targets (the hybrid barrier, gc/collector.h).
// The stop-the-world mode never sets it.
#pragma once

#include <atomic>
#include <cstddef>

namespace tricolor {
namespace gc {
extern std::atomic<bool> g_barrier_enabled;
// Set from the start of a mark until the weak references of that cycle have
// been cleared: weak reads must shade (marking) or check liveness (sweeping).
extern std::atomic<bool> g_weak_read_check;
// Shades old and new value (hybrid Yuasa + Dijkstra barrier) into the
// current mutator's barrier buffer. Out of line: only runs while marking.
void write_barrier_slow(const void* old_target, const void* new_target);
void write_barrier_batch_slow(const void* const* targets, size_t count);
// A target read through a weak reference: while marking it is shaded (the
// reader may store it anywhere); after the mark, before the weak references
// were cleared, a target that died reads as null.
const void* weak_read_slow(const void* target);
}  // namespace gc

// The raw barrier entry point for embedders who keep managed pointers in their
// own layouts (NaN-boxed values in an array, say): call it with the managed
// object the slot pointed to before the store and the one it points to after
// (either may be null), then do the store. Cost when not marking: one relaxed
// load and a not-taken branch.
inline void write_barrier(const void* old_target, const void* new_target) {
  // Test-only builds drop one half of the barrier to prove that the verifier
  // catches the objects it would lose (tests/gc/barrier_dropped_test.cpp).
#ifdef TRICOLOR_TEST_DROP_DELETION_BARRIER
  old_target = nullptr;
#endif
#ifdef TRICOLOR_TEST_DROP_INSERTION_BARRIER
  new_target = nullptr;
#endif
  if (gc::g_barrier_enabled.load(std::memory_order_relaxed)) [[unlikely]]
    gc::write_barrier_slow(old_target, new_target);
}

// The insertion half of the barrier for a batch of stores made by one thread
// (a map's evacuation moving a bucket's pointers): shades every non-null
// target. On a thread without a mutator (deferred work on a collector thread)
// the batch takes the collector's lock once instead of once per target.
inline void write_barrier_batch(const void* const* targets, size_t count) {
  if (count != 0 && gc::g_barrier_enabled.load(std::memory_order_relaxed)) [[unlikely]]
    gc::write_barrier_batch_slow(targets, count);
}

// Called by WeakMember::get() and WeakRef::get() with the target they read;
// returns what the reader may use. Outside collections: one relaxed load.
inline const void* weak_read(const void* target) {
  if (target != nullptr && gc::g_weak_read_check.load(std::memory_order_relaxed)) [[unlikely]]
    return gc::weak_read_slow(target);
  return target;
}

// Called by WeakMember stores: while marking the new target is shaded, so an
// object allocated black (never traced) cannot keep a weak slot to an object
// that dies this cycle.
inline void weak_store_barrier(const void* new_target) {
  if (new_target != nullptr && gc::g_barrier_enabled.load(std::memory_order_relaxed)) [[unlikely]]
    gc::write_barrier_slow(nullptr, new_target);
}

}  // namespace tricolor
