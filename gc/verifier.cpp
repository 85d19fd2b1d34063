// verifier.cpp — the independent reachability walk (see verifier.h).
#include "verifier.h"

#include <mimalloc.h>

#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector.h"
#include "errors.h"
#include "make.h"
#include "mutator.h"
#include "roots.h"
#include "visitor.h"

namespace tricolor::gc {
namespace {

template <class K, class V>
using MiMap = std::unordered_map<K, V, std::hash<K>, std::equal_to<K>, mi_stl_allocator<std::pair<const K, V>>>;

class VerifyingVisitor final : public Visitor {
 public:
  VerifyingVisitor(Heap& heap, VerifyResult& result, bool expect_marked)
      : heap_(heap), result_(result), expect_marked_(expect_marked) {}

  void set_root(const char* root_kind) { root_kind_ = root_kind; }

  void visit_object(const void* object) override {
    if (object == nullptr) return;
    ++result_.pointers;
    check(object);
    if (parent_of_.emplace(object, current_).second) {
      ++result_.objects;
      pending_.push_back(object);
    }
  }
  void visit_weak_slot(std::atomic<void*>*) override {}  // weak edges keep nothing alive

  void walk() {
    while (!pending_.empty()) {
      current_ = pending_.back();
      pending_.pop_back();
      const TypeInfo* type = header_of(current_)->type;
      if (type->trace != nullptr) type->trace(current_, *this);
    }
    current_ = nullptr;
  }

 private:
  void check(const void* object) {
    Span* span = heap_.span_of(object);
    if (span == nullptr) fail(object, "is outside the managed heap");
    span->acquire_geometry();
    const uintptr_t offset = reinterpret_cast<uintptr_t>(object) - kHeaderBytes - span->base;
    if (span->is_large() ? offset != 0 : offset % span->slot_bytes != 0)
      fail(object, "points inside an object");
    if (!span->is_allocated(span->slot_index(object))) fail(object, "points at a freed slot (lost object)");
    if (expect_marked_ && !span->is_marked(span->slot_index(object)))
      fail(object, "is reachable but unmarked at the end of marking (lost object)");
    const TypeInfo* type = header_of(object)->type;
    if (type == nullptr || type == &kFillerType) fail(object, "has no valid type header (corrupt object)");
  }

  [[noreturn]] void fail(const void* object, const char* problem) {
    std::string path;
    for (const void* at = current_; at != nullptr; at = parent_of_.at(at))
      path = std::string(header_of(at)->type->name) + " -> " + path;
    char address[32];
    std::snprintf(address, sizeof address, "%p", object);
    fatal(std::string("verifier: object ") + address + " " + problem + "; path: " + root_kind_ + " -> " +
          path + "(child)");
  }

  Heap& heap_;
  VerifyResult& result_;
  const bool expect_marked_;
  const char* root_kind_ = "root";
  const void* current_ = nullptr;
  MiMap<const void*, const void*> parent_of_;
  std::vector<const void*, mi_stl_allocator<const void*>> pending_;
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

}  // namespace

VerifyResult verify_heap(Collector& collector) { return walk_from_roots(collector, false); }
VerifyResult verify_marks(Collector& collector) { return walk_from_roots(collector, true); }

}  // namespace tricolor::gc
