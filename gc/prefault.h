// prefault.h — a job for the Provisioner (provisioner.h): make the memory of
// one large managed object resident, then say so.
//
// Owns: PrefaultWork, which populates [object, object + bytes) with
// MADV_POPULATE_WRITE, at most one 2 MiB huge page per call (large objects
// ask for transparent huge pages, see Heap::allocate_large), and then sets a
// flag its owner polls. The managed map (map/map.h) prefaults a big new
// table before its growth starts.
// Invariants:
//  - populating never changes what memory holds (present pages are left
//    alone, absent ones come in as zero), so it may run while others read or
//    write the object;
//  - the object stays alive while the job is queued (trace), and `ready`
//    lives in the object, so it outlives the job;
//  - `ready` turns true once every page was populated, or at once where the
//    kernel cannot populate (before Linux 5.14): nobody waits on it forever.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "deferred_work.h"

namespace tricolor::gc {

// A transparent huge page on x86-64 (and the run of spans the heap prefaults).
inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// Large objects from this size on come as untouched pages (zeroed by
// madvise, see Heap::allocate_large); smaller ones are cleared by memset
// (cheaper than a system call), which touches them on the allocating thread.
inline constexpr size_t kUntouchedLargeObjectBytes = 256 * 1024;

// Makes [address, address + bytes) resident and writable without writing to
// it (MADV_POPULATE_WRITE); false where the kernel cannot (before Linux 5.14).
bool populate_pages(uintptr_t address, size_t bytes);

class PrefaultWork final : public DeferredWork {
 public:
  PrefaultWork(const void* object, size_t bytes, std::atomic<bool>& ready);
  bool run(uint64_t budget_ns) override;
  void trace(Visitor& visitor) const override;

 private:
  const void* object_;
  uintptr_t next_;
  uintptr_t end_;
  std::atomic<bool>& ready_;
};

}  // namespace tricolor::gc
