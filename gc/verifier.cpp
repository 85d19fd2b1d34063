// verifier.cpp — the independent reachability walk (see verifier.h).
#include "verifier.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "collector.h"
#include "errors.h"
#include "make.h"
#include "marker.h"
#include "mutator.h"
#include "roots.h"
#include "unmanaged_memory.h"
#include "visitor.h"

namespace tricolor::gc {
namespace {

template <class K, class V>
using UnmanagedMap = std::unordered_map<K, V, std::hash<K>, std::equal_to<K>, UnmanagedAllocator<std::pair<const K, V>>>;

template <class T>
using UnmanagedSet = std::unordered_set<T, std::hash<T>, std::equal_to<T>, UnmanagedAllocator<T>>;

// The mark bit of `object`, which must lie in the managed heap.
bool is_marked_in(const Heap& heap, const void* object) {
  Span* span = heap.span_of(object);
  if (span == nullptr) [[unlikely]] {
    char address[32];
    std::snprintf(address, sizeof address, "%p", object);
    fatal(std::string("verifier: object ") + address + " is outside the managed heap");
  }
  span->acquire_geometry();
  return span->is_marked(span->slot_index(object));
}

// What verify_colours knows of the running mark.
struct Colours {
  UnmanagedSet<const void*> grey;                       // marked, fields not yet visited
  UnmanagedSet<const void*> protected_white;            // reachable from grey / unscanned roots through white
  UnmanagedSet<const std::atomic<void*>*> pending;      // value slots of pending ephemerons
};

class VerifyingVisitor final : public Visitor {
 public:
  VerifyingVisitor(Heap& heap, VerifyResult& result, bool expect_marked, const Colours* colours = nullptr)
      : heap_(heap), result_(result), expect_marked_(expect_marked), colours_(colours) {}

  // `scanned`: this root set is black in the running mark (verify_colours).
  void set_root(const char* root_kind, bool scanned = false) {
    root_kind_ = root_kind;
    root_scanned_ = scanned;
  }

  void visit_object(const void* object) override {
    if (object == nullptr) return;
    ++result_.pointers;
    check(object);
    if (colours_ != nullptr) check_colours(object);
    if (parent_of_.emplace(object, current_).second) {
      ++result_.objects;
      pending_.push_back(object);
    }
  }
  void visit_weak_slot(std::atomic<void*>*) override {}  // weak edges keep nothing alive
  // An ephemeron's value is reachable once its key is: pairs met with an
  // unreached key wait, and walk() revisits them until nothing changes.
  void visit_ephemeron(std::atomic<void*>* key_slot, std::atomic<void*>* value_slot) override {
    const void* key = key_slot->load(std::memory_order_acquire);
    if (key == nullptr) {
      // A pair without a key holds no value: a stale one would be freed
      // memory by the next sweep, and a store into the pair would shade it.
      if (const void* value = value_slot->load(std::memory_order_relaxed))
        fail(value, "is the value of an ephemeron whose key is gone (a value slot left dangling)");
      return;
    }
    if (colours_ != nullptr && current_ != nullptr && is_black(current_) && colours_->pending.count(value_slot) == 0) {
      const void* value = value_slot->load(std::memory_order_relaxed);
      if (!is_marked(key)) fail(key, "is the white key of an ephemeron in a black object, not pending (lost ephemeron)");
      if (value != nullptr && !is_marked(value))
        fail(value, "is the white value of an ephemeron with a marked key in a black object (lost value)");
    }
    if (parent_of_.count(key) != 0) visit_object(value_slot->load(std::memory_order_relaxed));
    else waiting_.push_back(WaitingEphemeron{key, value_slot, current_});
  }

  void walk() {
    do {
      while (!pending_.empty()) {
        current_ = pending_.back();
        pending_.pop_back();
        const TypeInfo* type = heap_.type_of(current_);
        if (type->trace != nullptr) type->trace(current_, *this);
      }
    } while (reach_ephemeron_values());
    current_ = nullptr;
  }

 private:
  bool is_marked(const void* object) const { return is_marked_in(heap_, object); }
  bool is_black(const void* object) const { return is_marked(object) && colours_->grey.count(object) == 0; }

  // The edge current_ → object, or root → object (current_ null).
  void check_colours(const void* object) {
    if (is_marked(object)) return;
    if (current_ == nullptr) {
      if (root_scanned_ && colours_->protected_white.count(object) == 0)
        fail(object, "is white, held by a scanned root, and no grey object or unscanned root reaches it "
                     "(a deletion barrier is missing)");
    } else if (is_black(current_)) {
      fail(object, "is white and its parent is black (an insertion barrier is missing)");
    }
  }

  struct WaitingEphemeron {
    const void* key;
    std::atomic<void*>* value_slot;
    const void* holder;
  };

  // Visits the values of waiting pairs whose key has been reached since;
  // true if that found anything.
  bool reach_ephemeron_values() {
    const size_t before = pending_.size();
    auto reached = std::partition(waiting_.begin(), waiting_.end(),
                                  [&](const WaitingEphemeron& e) { return parent_of_.count(e.key) == 0; });
    std::vector<WaitingEphemeron, UnmanagedAllocator<WaitingEphemeron>> now(reached, waiting_.end());
    waiting_.erase(reached, waiting_.end());
    for (const WaitingEphemeron& e : now) {
      current_ = e.holder;
      visit_object(e.value_slot->load(std::memory_order_relaxed));
    }
    return pending_.size() != before;
  }

  void check(const void* object) {
    Span* span = heap_.span_of(object);
    if (span == nullptr) fail(object, "is outside the managed heap");
    span->acquire_geometry();
    if (span->offset_in_object(object) != 0) fail(object, "points inside an object");
    if (!span->is_allocated(span->slot_index(object))) fail(object, "points at a freed slot (lost object)");
    if (expect_marked_ && !span->is_marked(span->slot_index(object)))
      fail(object, "is reachable but unmarked at the end of marking (lost object)");
    const TypeInfo* type = span->type_of(object);
    if (type == nullptr || type == &kFillerType) fail(object, "has no valid type header (corrupt object)");
  }

  [[noreturn]] void fail(const void* object, const char* problem) {
    // Root first; a long path keeps its first and last hops.
    std::vector<const char*> hops;
    for (const void* at = current_; at != nullptr; at = parent_of_.at(at)) hops.push_back(heap_.type_of(at)->name);
    std::reverse(hops.begin(), hops.end());
    constexpr size_t kShownAtEachEnd = 6;
    std::string path;
    for (size_t i = 0; i < hops.size(); ++i) {
      if (hops.size() > 2 * kShownAtEachEnd && i == kShownAtEachEnd) {
        path += "... (" + std::to_string(hops.size() - 2 * kShownAtEachEnd) + " more) -> ";
        i = hops.size() - kShownAtEachEnd - 1;
        continue;
      }
      path += std::string(hops[i]) + " -> ";
    }
    char address[32];
    std::snprintf(address, sizeof address, "%p", object);
    // The child's type, when its slot still holds an object.
    Span* span = heap_.span_of(object);
    const TypeInfo* child_type =
        span != nullptr && span->is_allocated(span->slot_index(object)) ? span->type_of(object) : nullptr;
    const bool readable = child_type != nullptr && child_type != &kFillerType;
    fatal(std::string("verifier: object ") + address + " " + problem + "; path: " + root_kind_ + " -> " + path +
          (readable ? child_type->name : "(child)"));
  }

  Heap& heap_;
  VerifyResult& result_;
  const bool expect_marked_;
  const Colours* colours_;
  const char* root_kind_ = "root";
  bool root_scanned_ = false;
  const void* current_ = nullptr;
  UnmanagedMap<const void*, const void*> parent_of_;
  std::vector<const void*, UnmanagedAllocator<const void*>> pending_;
  std::vector<WaitingEphemeron, UnmanagedAllocator<WaitingEphemeron>> waiting_;
};

VerifyResult walk_from_roots(Collector& collector, bool expect_marked) {
  VerifyResult result;
  VerifyingVisitor visitor(collector.heap(), result, expect_marked);
  visitor.set_root("Persistent");
  global_roots().trace_strong(visitor);
  visitor.walk();
  collector.world().for_each([&](Mutator& mutator) {
    visitor.set_root("mutator roots");
    mutator.scan_roots(visitor);
    visitor.walk();
  });
  return result;
}

// Collects the white objects reachable, through white objects only, from
// the grey ones and from the roots not yet scanned.
class ProtectedWhite final : public Visitor {
 public:
  ProtectedWhite(Heap& heap, UnmanagedSet<const void*>& out) : heap_(heap), out_(out) {}
  void from_grey(const void* grey) {
    const TypeInfo* type = heap_.type_of(grey);
    if (type->trace != nullptr) type->trace(grey, *this);
    walk();
  }
  void from_root(const void* target) {
    visit_object(target);
    walk();
  }
  void visit_object(const void* object) override {
    if (object == nullptr) return;
    if (is_marked_in(heap_, object)) return;
    if (out_.insert(object).second) pending_.push_back(object);
  }
  void visit_weak_slot(std::atomic<void*>*) override {}
  // Conservative: a value may become reachable once its key is.
  void visit_ephemeron(std::atomic<void*>* key_slot, std::atomic<void*>* value_slot) override {
    if (key_slot->load(std::memory_order_acquire) != nullptr) visit_object(value_slot->load(std::memory_order_relaxed));
  }

 private:
  void walk() {
    while (!pending_.empty()) {
      const void* object = pending_.back();
      pending_.pop_back();
      const TypeInfo* type = heap_.type_of(object);
      if (type->trace != nullptr) type->trace(object, *this);
    }
  }
  Heap& heap_;
  UnmanagedSet<const void*>& out_;
  std::vector<const void*, UnmanagedAllocator<const void*>> pending_;
};

// A Visitor that hands each root to a function.
class RootLister final : public Visitor {
 public:
  explicit RootLister(std::function<void(const void*)> each) : each_(std::move(each)) {}
  void visit_object(const void* object) override {
    if (object != nullptr) each_(object);
  }
  void visit_weak_slot(std::atomic<void*>*) override {}
  void visit_ephemeron(std::atomic<void*>*, std::atomic<void*>*) override {}

 private:
  std::function<void(const void*)> each_;
};

}  // namespace

VerifyResult verify_heap(Collector& collector) { return walk_from_roots(collector, false); }
VerifyResult verify_marks(Collector& collector) { return walk_from_roots(collector, true); }

VerifyResult verify_colours(Collector& collector) {
  VerifyResult result;
  if (collector.phase() != Phase::kMark) return result;
  MarkShared& shared = collector.mark_shared();
  Colours colours;
  shared.queue.for_each_full_entry_quiescent([&](const void* entry) { colours.grey.insert(object_of_mark_entry(entry)); });
  collector.world().for_each([&](Mutator& m) { m.for_each_buffered([&](const void* g) { colours.grey.insert(g); }); });
  {
    std::lock_guard lock(shared.weak_mutex);
    for (const PendingEphemeron& e : shared.ephemerons) colours.pending.insert(e.value_slot);
  }
  ProtectedWhite protect(collector.heap(), colours.protected_white);
  for (const void* grey : colours.grey) protect.from_grey(grey);
  RootLister unscanned([&](const void* target) { protect.from_root(target); });
  if (!collector.global_roots_scanned()) {
    global_roots().trace_strong(unscanned);
    collector.deferred_work().trace(unscanned);
  }
  collector.world().for_each([&](Mutator& m) {
    if (!m.roots_scanned()) m.scan_roots(unscanned);
  });

  VerifyingVisitor visitor(collector.heap(), result, /*expect_marked=*/false, &colours);
  visitor.set_root("Persistent", collector.global_roots_scanned());
  global_roots().trace_strong(visitor);
  visitor.walk();
  collector.world().for_each([&](Mutator& mutator) {
    visitor.set_root("mutator roots", mutator.roots_scanned());
    mutator.scan_roots(visitor);
    visitor.walk();
  });
  return result;
}

}  // namespace tricolor::gc
