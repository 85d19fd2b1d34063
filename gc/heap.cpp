// heap.cpp — arenas, central span lists, large objects, sweeping and
// returning memory (see heap.h for the invariants kept here).
#include "heap.h"

#include <sys/mman.h>

#include <new>
#include <string>

#include "errors.h"
#include "provisioner.h"
#include "unmanaged_memory.h"

namespace tricolor::gc {
namespace {

// Returns the pages of [address, address + bytes) to the OS. For private
// anonymous memory (all mimalloc memory on Linux) the kernel guarantees the
// range reads back as zero, so this both releases and zeroes.
void release_pages(uintptr_t address, size_t bytes) {
  if (madvise(reinterpret_cast<void*>(address), bytes, MADV_DONTNEED) != 0)
    fatal("madvise(MADV_DONTNEED) failed on managed memory");
}

// Asks for transparent huge pages over the 2 MiB-aligned part of `bytes`:
// one fault per 2 MiB instead of per 4 KiB at the first touch (on this
// project's VM a 4 KiB first touch costs 7-11 µs, a 2 MiB one 0.1-5 ms:
// bench/RESULTS.md), a PrefaultWork populates it in 2 MiB calls, and the
// marker and mutators miss the TLB far less on a heap of gigabytes. Arenas
// (from the second on) and large objects ask; both are committed and
// released in whole huge pages (a large object goes back to mimalloc whole,
// an arena's spans in groups of kSpansPerHugePage), because a partial
// release splits the page and, with huge pages, took the driver up to
// 8.5 ms per cycle (stop 12, RESULTS).
// Where the kernel has no THP (or it is off) the call fails and nothing changes.
void prefer_huge_pages(uintptr_t address, size_t bytes) {
  const uintptr_t begin = (address + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const uintptr_t end = (address + bytes) & ~(kHugePageBytes - 1);
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

void* allocate_unmanaged(size_t bytes, size_t alignment, const char* what) {
  void* memory = unmanaged_allocate(bytes, alignment);
  if (memory == nullptr)
    throw HeapExhausted("tricolor: the allocator refused " + std::to_string(bytes) + " bytes for " + what);
  return memory;
}

// A provisioning job (provisioner.h): one huge page of an arena's spans made resident.
class HugePagePrefaultWork final : public DeferredWork {
 public:
  HugePagePrefaultWork(Heap& heap, Arena* arena, Span* first) : heap_(heap), arena_(arena), first_(first) {}
  bool run(uint64_t) override {
    heap_.prefault_huge_page(arena_, first_);
    return true;
  }

 private:
  Heap& heap_;
  Arena* arena_;
  Span* first_;
};

// A provisioning job: the next arena, built before allocation needs it.
class ArenaGrowthWork final : public DeferredWork {
 public:
  explicit ArenaGrowthWork(Heap& heap) : heap_(heap) {}
  bool run(uint64_t) override {
    heap_.grow_ahead();
    return true;
  }

 private:
  Heap& heap_;
};

bool is_in_use(SpanState state) {
  return state == SpanState::kCached || state == SpanState::kPartial || state == SpanState::kFull ||
         state == SpanState::kSweeping;
}

}  // namespace

// ---------------------------------------------------------------- SpanList

void SpanList::push(Span* span) {
  span->prev = nullptr;
  span->next = head_;
  if (head_ != nullptr) head_->prev = span;
  head_ = span;
  ++size_;
}

void SpanList::remove(Span* span) {
  if (span->prev != nullptr) span->prev->next = span->next;
  else head_ = span->next;
  if (span->next != nullptr) span->next->prev = span->prev;
  span->next = span->prev = nullptr;
  --size_;
}

Span* SpanList::pop() {
  Span* span = head_;
  if (span != nullptr) remove(span);
  return span;
}

// ---------------------------------------------------------------- lifecycle

Heap::~Heap() {
  // Objects no sweep reclaimed (live at teardown, or dead in unswept spans)
  // get their destructors now: a managed object may own unmanaged memory.
  for (Arena* arena = arenas_; arena != nullptr; arena = arena->next)
    for (size_t i = 0; i < kSpansPerArena; ++i)
      if (is_in_use(arena->spans[i].state)) arena->spans[i].destroy_all();
  while (Span* span = unswept_large_.pop()) large_spans_.push(span);
  while (Span* span = large_spans_.pop()) {
    void* object = object_of_slot(span->base);
    if (const TypeInfo* type = header_of(object)->type; type != nullptr && type->destroy != nullptr) type->destroy(object);
    unmanaged_free(reinterpret_cast<void*>(span->base));
    span->~Span();
    unmanaged_free(span);
  }
  while (arenas_ != nullptr) {
    Arena* arena = arenas_;
    arenas_ = arena->next;
    for (size_t i = 0; i < kSpansPerArena; ++i) arena->spans[i].~Span();
    unmanaged_free(arena->spans);
    unmanaged_free(reinterpret_cast<void*>(arena->base));
    delete arena;
  }
}

// Without the heap lock: the memory from mimalloc, its madvise calls and
// the first touch of ~1 MB of span descriptors took 2-11 ms, and under the
// lock every refill, release and sweep of every thread waited for it.
Arena* Heap::build_arena(bool huge_pages) {
  if (arena_build_hook_) [[unlikely]] arena_build_hook_();
  auto base = reinterpret_cast<uintptr_t>(allocate_unmanaged(kArenaBytes, kHugePageBytes, "an arena"));
  // mimalloc 2.0 cannot tell whether a block is fresh from the OS, and
  // mi_zalloc clears it by hand (1.3 s for 300 MB, measured); DONTNEED makes
  // the range zero at page-table cost instead (about 50 µs for 300 MB).
  release_pages(base, kArenaBytes);
  if (huge_pages) prefer_huge_pages(base, kArenaBytes);
  auto* spans = static_cast<Span*>(unmanaged_allocate_zeroed(sizeof(Span) * kSpansPerArena));
  if (spans == nullptr) {
    unmanaged_free(reinterpret_cast<void*>(base));
    throw HeapExhausted("tricolor: out of memory for span descriptors");
  }
  auto* arena = new Arena{base, spans, kSpansPerArena, 0, nullptr};
  for (size_t i = 0; i < kSpansPerArena; ++i) {
    Span* span = new (&spans[i]) Span();
    span->base = base + i * kSpanBytes;
    span->bytes = kSpanBytes;
    span->arena = arena;
    span->state = SpanState::kReleased;
  }
  return arena;
}

void Heap::install_arena_locked(Arena* arena) {
  arena->next = arenas_;
  arenas_ = arena;
  // Pushed bottom up: allocation takes the arena's spans from the top down.
  for (size_t i = 0; i < kSpansPerArena; ++i) released_spans_.push(&arena->spans[i]);
  counters_.metadata_bytes += sizeof(Span) * kSpansPerArena + sizeof(Arena);
  for (size_t i = 0; i < kSpansPerArena; ++i)
    counters_.metadata_bytes += page_map_.assign(arena->spans[i].base, kSpanBytes, &arena->spans[i]);
  counters_.arena_bytes += kArenaBytes;
  counters_.released_span_bytes += kArenaBytes;
  ++counters_.arenas;
}

void Heap::grow(std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  {
    // One thread builds at a time; the others wait here and find its arena.
    std::lock_guard growing(grow_mutex_);
    lock.lock();
    const bool needed = free_spans_.empty() && released_spans_.empty();
    const bool huge_pages = counters_.arenas != 0;
    lock.unlock();
    if (needed) {
      Arena* arena = build_arena(huge_pages);
      lock.lock();
      install_arena_locked(arena);
      lock.unlock();
    }
  }
  lock.lock();
}

void Heap::grow_ahead() {
  std::lock_guard growing(grow_mutex_);
  Arena* arena = nullptr;
  try {
    arena = build_arena(/*huge_pages=*/true);  // queued only once an arena exists
  } catch (const HeapExhausted&) {
    // Out of memory ahead of need: the allocation that needs it will say so.
  }
  std::lock_guard lock(mutex_);
  if (arena != nullptr) install_arena_locked(arena);
  growing_ahead_ = false;
}

void Heap::provision_ahead_locked() {
  if (provisioner_ == nullptr) return;
  if (released_spans_.size() < kGrowAheadSpans && !growing_ahead_) {
    growing_ahead_ = true;
    queue_provisioning_locked(std::make_shared<ArenaGrowthWork>(*this));
  }
  if (free_spans_.size() >= kSpansPerHugePage) return;
  Span* next = released_spans_.front();
  if (next == nullptr || next->prefault_queued) return;
  Arena* arena = next->arena;
  Span* first = first_of_huge_page(next);
  for (size_t k = 0; k < kSpansPerHugePage; ++k) first[k].prefault_queued = first[k].state == SpanState::kReleased;
  ++arena->prefaulting;
  queue_provisioning_locked(std::make_shared<HugePagePrefaultWork>(*this, arena, first));
}

void Heap::queue_provisioning_locked(std::shared_ptr<DeferredWork> job) {
  unsubmitted_.push_back(std::move(job));
  has_unsubmitted_.store(true, std::memory_order_relaxed);
}

void Heap::submit_provisioning() {
  if (!has_unsubmitted_.load(std::memory_order_relaxed)) return;
  std::vector<std::shared_ptr<DeferredWork>> jobs;
  {
    std::lock_guard lock(mutex_);
    jobs.swap(unsubmitted_);
    has_unsubmitted_.store(false, std::memory_order_relaxed);
  }
  if (submit_hook_) [[unlikely]] submit_hook_();
  for (auto& job : jobs) provisioner_->submit(std::move(job));
}

Span* Heap::first_of_huge_page(Span* span) {
  const size_t index = static_cast<size_t>(span - span->arena->spans);
  return &span->arena->spans[index - index % kSpansPerHugePage];
}

void Heap::commit_huge_page_locked(Span* first) {
  for (size_t i = 0; i < kSpansPerHugePage; ++i) {
    Span* span = &first[i];
    if (span->state != SpanState::kReleased) continue;
    released_spans_.remove(span);
    set_state_locked(span, SpanState::kFree);  // still zero: released memory reads as zero
    span->needs_zero = false;
    free_spans_.push(span);
  }
}

void Heap::prefault_huge_page(Arena* arena, Span* first) {
  // Outside the lock: a mutator may commit this huge page and write to one of
  // its spans meanwhile, which populating leaves alone. Where the kernel
  // cannot populate, the spans still become free (they read as zero): the
  // page is not queued again and again.
  (void)populate_pages(first->base, kHugePageBytes);
  {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < kSpansPerHugePage; ++i) first[i].prefault_queued = false;
    commit_huge_page_locked(first);
    --arena->prefaulting;
    provision_ahead_locked();  // the released spans left may call for the next arena
  }
  submit_provisioning();
}

void Heap::free_arena_locked(Arena* arena) {
  for (size_t i = 0; i < kSpansPerArena; ++i) {
    Span* span = &arena->spans[i];
    if (span->state == SpanState::kFree) {
      free_spans_.remove(span);
      counters_.free_span_bytes -= kSpanBytes;
      counters_.released_total_bytes += kSpanBytes;
    } else {
      released_spans_.remove(span);
      counters_.released_span_bytes -= kSpanBytes;
    }
  }
  page_map_.assign(arena->base, kArenaBytes, nullptr);
  for (Arena** link = &arenas_; *link != nullptr; link = &(*link)->next) {
    if (*link == arena) {
      *link = arena->next;
      break;
    }
  }
  for (size_t i = 0; i < kSpansPerArena; ++i) arena->spans[i].~Span();
  unmanaged_free(arena->spans);
  unmanaged_free(reinterpret_cast<void*>(arena->base));
  counters_.metadata_bytes -= sizeof(Span) * kSpansPerArena + sizeof(Arena);
  counters_.arena_bytes -= kArenaBytes;
  --counters_.arenas;
  delete arena;
}

// ---------------------------------------------------------------- spans

void Heap::set_state_locked(Span* span, SpanState state) {
  auto group_bytes = [this](SpanState s) -> size_t* {
    if (s == SpanState::kFree) return &counters_.free_span_bytes;
    if (s == SpanState::kReleased) return &counters_.released_span_bytes;
    return &counters_.in_use_span_bytes;
  };
  const bool was_empty = !is_in_use(span->state);
  const bool is_empty = !is_in_use(state);
  *group_bytes(span->state) -= span->bytes;
  *group_bytes(state) += span->bytes;
  if (was_empty != is_empty) span->arena->empty_spans += is_empty ? 1 : -1;
  span->state = state;
}

Span* Heap::take_empty_span(std::unique_lock<std::mutex>& lock) {
  while (free_spans_.empty() && released_spans_.empty()) grow(lock);
  Span* span = free_spans_.pop();  // committed (dirty, or populated and zero)
  if (span == nullptr) {
    // The whole huge page is committed at once (its first touch faults in
    // 2 MiB): its other spans become free spans, still zero.
    commit_huge_page_locked(first_of_huge_page(released_spans_.front()));
    span = free_spans_.pop();
  }
  provision_ahead_locked();
  return span;
}

Span* Heap::acquire_span(uint16_t cls) {
  Span* span = nullptr;
  // Lazy sweeping per refill is bounded (Go's mcentral tries 100 spans): a
  // refill must not sweep a whole heap of full spans before a safepoint.
  constexpr int kMaxLazySweeps = 16;
  for (int sweeps = 0;; ++sweeps) {
    std::unique_lock lock(mutex_);
    const uint32_t sg = sweepgen_.load(std::memory_order_relaxed);
    const bool may_sweep = lazy_sweep_allowed_.load(std::memory_order_acquire) && sweeps < kMaxLazySweeps;
    if (may_sweep || (!partial_[cls].empty() && partial_[cls].front()->sweepgen == sg))
      span = partial_[cls].pop();
    if (span != nullptr && span->sweepgen.load(std::memory_order_relaxed) == sg - 2) {
      // Lazy sweep: a span must be swept before it is allocated from.
      set_state_locked(span, SpanState::kSweeping);
      span->sweepgen.store(sg - 1, std::memory_order_relaxed);
      lock.unlock();
      sweep_claimed(span);
      lock.lock();
      if (span->state != SpanState::kPartial) {  // it came out empty or full: look again
        span = nullptr;
        continue;
      }
      partial_[cls].remove(span);
    }
    if (span == nullptr) {
      span = take_empty_span(lock);  // may drop the lock: a sweep cycle may have begun meanwhile
      span->init_small(cls);
      span->sweepgen.store(sweepgen_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    span->rewind_cursor();
    set_state_locked(span, SpanState::kCached);
    break;
  }
  submit_provisioning();
  // Outside the lock: at most one span (64 KiB) of clearing per refill.
  if (span->needs_zero) span->zero_free_slots();
  count_allocated(span->free_slots() * span->slot_bytes);
  return span;
}

void Heap::release_span(Span* span) { release_spans(&span, 1); }

void Heap::release_spans(Span* const* spans, size_t count) {
  if (count == 0) return;  // an empty cache flushed at the end of a mark: no lock
  if (count > kNumSpanClasses) fatal("Heap::release_spans: more spans than span classes");
  // What each span has left is read before the lock (the caller owns the
  // spans): under it, only the lists change.
  size_t unused_bytes = 0;
  bool full[kNumSpanClasses];
  for (size_t i = 0; i < count; ++i) {
    const size_t unused = spans[i]->free_slots() * spans[i]->slot_bytes;
    unused_bytes += unused;
    full[i] = unused == 0;
  }
  {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < count; ++i) {
      Span* span = spans[i];
      if (full[i]) {
        set_state_locked(span, SpanState::kFull);
      } else {
        set_state_locked(span, SpanState::kPartial);
        partial_[span->span_class].push(span);
      }
    }
  }
  uncount_allocated(unused_bytes);
}

void Heap::count_allocated(size_t bytes) {
  heap_live_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  allocated_total_bytes_.fetch_add(bytes, std::memory_order_relaxed);
}

void Heap::uncount_allocated(size_t bytes) {
  heap_live_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  allocated_total_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
}

// ---------------------------------------------------------------- large objects

uintptr_t Heap::allocate_large(size_t slot_bytes) {
  const size_t bytes = (slot_bytes + kSpanBytes - 1) & ~(kSpanBytes - 1);
  const auto base = reinterpret_cast<uintptr_t>(allocate_unmanaged(bytes, kSpanBytes, "a large object"));
  void* descriptor = unmanaged_allocate_zeroed(sizeof(Span));
  if (descriptor == nullptr) {
    unmanaged_free(reinterpret_cast<void*>(base));
    throw HeapExhausted("tricolor: out of memory for a span descriptor");
  }
  // The object's memory and its descriptor may be what a sweep on another
  // thread just freed (sweep_large): this thread first writes them after
  // taking the heap lock, which the sweeper released after its last access
  // to them, so the order holds without relying on the allocator's own
  // hand-over (see unmanaged_memory.h). Zeroing after the span is published
  // is safe: no one holds a pointer to the object yet, and no sweep can
  // start before this mutator's next safepoint.
  Span* span = nullptr;
  {
    std::lock_guard lock(mutex_);
    span = new (descriptor) Span();
    span->base = base;
    span->bytes = bytes;
    span->slot_bytes = static_cast<uint32_t>(bytes > UINT32_MAX ? 0 : bytes);
    span->slot_count = 1;
    span->size_class = kLargeClass;
    span->state = SpanState::kLarge;
    span->alloc_bits[0].store(1, std::memory_order_relaxed);
    span->sweepgen.store(sweepgen_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    counters_.metadata_bytes += sizeof(Span) + page_map_.assign(base, bytes, span);
    counters_.large_bytes += bytes;
    ++counters_.large_objects;
    large_spans_.push(span);
  }
  if (bytes >= kUntouchedLargeObjectBytes) {
    release_pages(base, bytes);
    prefer_huge_pages(base, bytes);
  } else {
    std::memset(reinterpret_cast<void*>(base), 0, bytes);
  }
  count_allocated(bytes);
  return base;
}

void Heap::sweep_large(Span* span) {
  const bool live = span->is_marked(0);
  if (live) {
    span->mark_bits[0].store(0, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    sweep_totals_.live_bytes += span->bytes;
    ++sweep_totals_.live_objects;
    span->state = SpanState::kLarge;
    span->sweepgen.store(sweepgen_.load(std::memory_order_relaxed), std::memory_order_release);
    large_spans_.push(span);
    return;
  }
  void* object = object_of_slot(span->base);
  const TypeInfo* type = header_of(object)->type;
  if (type->destroy != nullptr) type->destroy(object);
  // Every access to the object and its descriptor comes before the heap
  // lock is released (see allocate_large): after it, only the locals.
  const uintptr_t base = span->base;
  const size_t bytes = span->bytes;
  {
    std::lock_guard lock(mutex_);
    page_map_.assign(base, bytes, nullptr);
    sweep_totals_.freed_bytes += bytes;
    ++sweep_totals_.freed_objects;
    counters_.large_bytes -= bytes;
    counters_.released_total_bytes += bytes;
    counters_.metadata_bytes -= sizeof(Span);
    --counters_.large_objects;
    span->~Span();
  }
  freed_total_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  unmanaged_free(reinterpret_cast<void*>(base));
  unmanaged_free(span);
}

// ---------------------------------------------------------------- sweeping

void Heap::begin_sweep_cycle(bool poison, bool lazy_allowed) {
  std::lock_guard lock(mutex_);
  poison_ = poison;
  sweepgen_.store(sweepgen_.load(std::memory_order_relaxed) + 2, std::memory_order_release);
  lazy_sweep_allowed_.store(lazy_allowed, std::memory_order_release);
  sweep_arena_ = arenas_;
  sweep_index_ = 0;
  sweep_totals_ = SweepTotals{};
  while (Span* span = large_spans_.pop()) unswept_large_.push(span);
}

// Under the lock: the next span whose sweepgen is sg - 2, now owned by the
// caller (state kSweeping, sweepgen sg - 1); or null.
Span* Heap::claim_unswept_locked() {
  const uint32_t sg = sweepgen_.load(std::memory_order_relaxed);
  if (Span* large = unswept_large_.pop()) {
    large->state = SpanState::kSweeping;
    large->sweepgen.store(sg - 1, std::memory_order_relaxed);
    return large;
  }
  for (; sweep_arena_ != nullptr; sweep_arena_ = sweep_arena_->next, sweep_index_ = 0) {
    for (; sweep_index_ < kSpansPerArena; ++sweep_index_) {
      Span* span = &sweep_arena_->spans[sweep_index_];
      if (span->sweepgen.load(std::memory_order_relaxed) != sg - 2) continue;
      if (span->state == SpanState::kPartial) partial_[span->span_class].remove(span);
      else if (span->state != SpanState::kFull) continue;  // empty or cached: nothing to sweep
      set_state_locked(span, SpanState::kSweeping);
      span->sweepgen.store(sg - 1, std::memory_order_relaxed);
      ++sweep_index_;
      return span;
    }
  }
  return nullptr;
}

// Under the lock: a swept span goes to the list its occupancy calls for.
void Heap::place_swept_locked(Span* span, size_t live_slots) {
  if (live_slots == 0) {
    set_state_locked(span, SpanState::kFree);
    free_spans_.push(span);
  } else if (live_slots < span->slot_count) {
    set_state_locked(span, SpanState::kPartial);
    partial_[span->span_class].push(span);
  } else {
    set_state_locked(span, SpanState::kFull);
  }
  span->sweepgen.store(sweepgen_.load(std::memory_order_relaxed), std::memory_order_release);
}

// Sweeps a span the caller claimed, outside the lock (destructors run here),
// and places it. Small spans only.
void Heap::sweep_claimed(Span* span) {
  const Span::SweepResult result = span->sweep(poison_);
  const size_t freed_bytes = result.freed_slots * span->slot_bytes;
  freed_total_bytes_.fetch_add(freed_bytes, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  sweep_totals_.live_bytes += result.live_slots * span->slot_bytes;
  sweep_totals_.freed_bytes += freed_bytes;
  sweep_totals_.live_objects += result.live_slots;
  sweep_totals_.freed_objects += result.freed_slots;
  place_swept_locked(span, result.live_slots);
}

bool Heap::sweep_next() {
  Span* span;
  {
    std::lock_guard lock(mutex_);
    span = claim_unswept_locked();
  }
  if (span == nullptr) return false;
  if (span->is_large()) sweep_large(span);
  else sweep_claimed(span);
  return true;
}

SweepTotals Heap::sweep_totals() const {
  std::lock_guard lock(mutex_);
  return sweep_totals_;
}

bool Heap::is_unswept_and_dead(const void* object) const {
  Span* span = span_of(object);
  if (span == nullptr) return true;
  span->acquire_geometry();
  const uint32_t sg = sweepgen_.load(std::memory_order_acquire);
  const uint32_t span_gen = span->sweepgen.load(std::memory_order_acquire);
  return (span_gen == sg - 2 || span_gen == sg - 1) && !span->is_marked(span->slot_index(object));
}

SweepTotals Heap::sweep_all(bool poison) {
  begin_sweep_cycle(poison, /*lazy_allowed=*/true);
  finish_sweep();
  const SweepTotals totals = sweep_totals();
  heap_live_bytes_.store(totals.live_bytes, std::memory_order_relaxed);
  return totals;
}

void Heap::release_free_memory(size_t retain_bytes) {
  std::lock_guard serialized(release_mutex_);
  std::unique_lock lock(mutex_);
  // Whole empty arenas go back to mimalloc while the empty spans left still
  // cover what the pacer expects to need (not one a provisioning job holds).
  for (Arena* arena = arenas_; arena != nullptr;) {
    Arena* next = arena->next;
    const size_t empty_bytes = counters_.free_span_bytes + counters_.released_span_bytes;
    if (arena->empty_spans == kSpansPerArena && arena->prefaulting == 0 && empty_bytes >= retain_bytes + kArenaBytes)
      free_arena_locked(arena);
    arena = next;
  }
  // Then committed empty spans go back to the OS in whole huge pages (all
  // kSpansPerHugePage spans of one free), in contiguous runs so that one
  // madvise covers many. A run leaves the free list under the lock, the
  // system call runs without it (allocation goes on meanwhile), and the run
  // joins the released list after; release_mutex_ keeps a second caller from
  // taking the same spans for free meanwhile.
  auto huge_page_is_free = [](const Span* first) {
    for (size_t k = 0; k < kSpansPerHugePage; ++k)
      if (first[k].state != SpanState::kFree) return false;
    return true;
  };
  for (Arena* arena = arenas_; arena != nullptr; arena = arena->next) {
    for (size_t i = 0; i < kSpansPerArena && counters_.free_span_bytes > retain_bytes;) {
      size_t end = i;
      while (end < kSpansPerArena && huge_page_is_free(&arena->spans[end]) &&
             counters_.free_span_bytes - (end - i) * kSpanBytes > retain_bytes) {
        for (size_t k = end; k < end + kSpansPerHugePage; ++k) free_spans_.remove(&arena->spans[k]);
        end += kSpansPerHugePage;
      }
      if (end == i) {
        i += kSpansPerHugePage;
        continue;
      }
      const size_t run_bytes = (end - i) * kSpanBytes;
      lock.unlock();
      if (before_release_hook_) [[unlikely]] before_release_hook_();
      release_pages(arena->spans[i].base, run_bytes);
      lock.lock();
      for (size_t k = i; k < end; ++k) {
        Span* span = &arena->spans[k];
        set_state_locked(span, SpanState::kReleased);
        span->needs_zero = false;
        released_spans_.push(span);
      }
      counters_.released_total_bytes += run_bytes;
      i = end;
    }
  }
}

HeapCounters Heap::counters() const {
  std::lock_guard lock(mutex_);
  HeapCounters copy = counters_;
  return copy;
}

}  // namespace tricolor::gc
