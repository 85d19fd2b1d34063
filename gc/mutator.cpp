// mutator.cpp — registration, allocation slow paths, roots and safepoints of
// a mutator thread (see mutator.h for the invariants).
#include "mutator.h"

#include <sstream>

#include "collector.h"
#include "make.h"
#include "visitor.h"
#include "world.h"

namespace tricolor {
namespace {
thread_local Mutator* tl_current_mutator = nullptr;
}  // namespace

Mutator* Mutator::current() { return tl_current_mutator; }

void gc::check_heap_access(const char* operation) {
  if (tl_current_mutator != nullptr) [[likely]] return;
  throw UsageError(std::string("tricolor: ") + operation +
                   " from a thread without a MutatorScope; every thread that touches the heap needs one");
}

Mutator::Mutator(gc::Collector& collector)
    : collector_(collector), heap_(collector.heap()), owner_(std::this_thread::get_id()) {
  if (tl_current_mutator != nullptr)
    throw UsageError("tricolor: this thread already has a MutatorScope; create one per thread, once");
  collector_.world().add(this);
  tl_current_mutator = this;
}

Mutator::~Mutator() {
  // While still running (the collector never touches a running mutator's
  // state): drop the roots, hand over barrier entries and cached spans.
  root_scanner_ = nullptr;
  flush_barrier_buffer();
  flush_allocation_cache();
  // Then blocked: a collector stopping the world or shaking hands must not
  // wait for us while we wait for the registry lock.
  collector_.world().enter_blocking(*this);
  collector_.world().remove(this);
  tl_current_mutator = nullptr;
}

void Mutator::check_thread(const char* operation) const {
  if (std::this_thread::get_id() == owner_) [[likely]] return;
  std::ostringstream message;
  message << "tricolor: " << operation << " on a Mutator from a thread that does not own it (owner "
          << owner_ << ", caller " << std::this_thread::get_id()
          << "); every thread that touches the heap needs its own MutatorScope";
  throw UsageError(message.str());
}

void Mutator::safepoint_slow() {
  const uint32_t poll = poll_.load(std::memory_order_acquire);
  if (poll & kPollHandshake) collector_.world().answer_handshake(*this);
  if (poll_.load(std::memory_order_acquire) & kPollStop) collector_.world().park(*this);
}

bool Mutator::shade(const void* object) {
  if (!collector_.shade_for_mutator(object)) return false;
  if (barrier_count_ == kBarrierBufferEntries) [[unlikely]] flush_barrier_buffer();
  barrier_buffer_[barrier_count_++] = object;
  return true;
}

void Mutator::flush_barrier_buffer() {
  if (barrier_count_ != 0) collector_.publish_buffered(*this);
}

void Mutator::enter_blocking() {
  if constexpr (kChecked) check_thread("BlockingRegion");
  collector_.world().enter_blocking(*this);
}

void Mutator::leave_blocking() { collector_.world().leave_blocking(*this); }

uintptr_t Mutator::refill_and_take(uint16_t cls) {
  if (cache_[cls] != nullptr) {
    heap_.release_span(cache_[cls]);
    cache_[cls] = nullptr;
  }
  collector_.collect_if_due(*this);
  safepoint();
  collector_.pay_assist_debt(*this);
  gc::Span* span = collector_.allocate_memory(*this, gc::kSpanBytes, [&] { return heap_.acquire_span(cls); });
  cache_[cls] = span;
  collector_.charge_assist(*this, span->free_slots() * span->slot_bytes);
  return span->take_free_slot();
}

void* Mutator::allocate_large(size_t slot_bytes, const TypeInfo* type, bool defer_assist) {
  collector_.collect_if_due(*this);
  safepoint();
  if (defer_assist) {
    collector_.charge_deferred_assist(*this, slot_bytes);
  } else {
    collector_.charge_assist(*this, slot_bytes);  // before: a big object pays before it exists
    collector_.pay_assist_debt(*this);
  }
  const uintptr_t slot =
      collector_.allocate_memory(*this, slot_bytes, [&] { return heap_.allocate_large(slot_bytes); });
  gc::Span* span = heap_.span_of(reinterpret_cast<void*>(slot));
  reinterpret_cast<gc::ObjectHeader*>(slot)->type = type;
  void* object = gc::object_of_slot(slot);
  if (allocate_black_.load(std::memory_order_relaxed)) mark_new_object(span, object);
  return object;
}

void Mutator::mark_new_object(gc::Span* span, const void* object) {
  // Only in spans of the cycle being marked: once the mark has ended (the
  // sweep generation advanced) a span taken since is already swept, and a
  // mark bit there would outlive its cycle.
  if (span->sweepgen.load(std::memory_order_relaxed) != black_epoch_) return;
  if (span->try_mark(span->slot_index(object)))
    black_allocated_bytes_ += span->is_large() ? span->bytes : span->slot_bytes;
}

void Mutator::flush_allocation_cache() {
  gc::Span* cached[gc::kNumSpanClasses];
  size_t count = 0;
  for (gc::Span*& span : cache_) {
    if (span == nullptr) continue;
    cached[count++] = span;
    span = nullptr;
  }
  heap_.release_spans(cached, count);
}

void Mutator::throw_construction_too_deep() {
  throw UsageError("tricolor: constructors nested more than 64 deep (make<T> inside a constructor)");
}

void Mutator::scan_roots(Visitor& visitor) {
  if (root_scanner_) root_scanner_(visitor);
  for (LocalRootNode* node = local_roots_; node != nullptr; node = node->previous)
    visitor.visit_object(node->object);
  for (size_t i = 0; i < constructing_depth_; ++i) visitor.visit_object(constructing_[i]);
}

size_t usable_size(const void* object) {
  gc::Span* span = Mutator::current() != nullptr ? Mutator::current()->collector().heap().span_of(object)
                                                 : nullptr;
  if (span == nullptr) throw UsageError("tricolor: usable_size() needs a managed object and a MutatorScope");
  return span->object_bytes();
}

}  // namespace tricolor
