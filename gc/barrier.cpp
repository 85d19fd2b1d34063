// barrier.cpp — the barrier flag and its slow paths.
//
// The stop-the-world collector never enables the barrier (marking never
// overlaps mutators), so reaching a slow path here means the flag was set
// without a concurrent mark phase: a broken invariant.
#include "barrier.h"

#include "errors.h"

namespace tricolor::gc {

std::atomic<bool> g_barrier_enabled{false};

void write_barrier_slow(const void*, const void*) {
  fatal("write barrier slow path reached while no concurrent mark phase exists");
}

void weak_read_barrier_slow(const void*) {
  fatal("weak read barrier slow path reached while no concurrent mark phase exists");
}

}  // namespace tricolor::gc
