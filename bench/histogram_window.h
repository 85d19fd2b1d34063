// histogram_window.h — one phase of a run out of two snapshots of a
// cumulative histogram (pauses, time-to-safepoint): `after` minus `before`.
// Shared by the benchmark drivers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <tricolor/tricolor.h>

namespace tricolor_bench {

// A histogram of one phase of a run: `after` minus `before`.
struct Window {
  const tricolor::Histogram& after;
  const tricolor::Histogram& before;

  uint64_t count() const { return after.count() - before.count(); }
  uint64_t sum() const { return after.sum() - before.sum(); }
  // The highest value in the window: exact if the maximum rose during it,
  // else the upper edge of the highest bucket that gained a value.
  uint64_t max() const {
    if (count() == 0) return 0;
    if (after.max() > before.max()) return after.max();
    for (int i = tricolor::Histogram::kBuckets - 1; i >= 0; --i) {
      if (after.bucket_count(i) > before.bucket_count(i))
        return std::min(tricolor::Histogram::bucket_upper(i), after.max());
    }
    return 0;
  }
  // Within one bucket (6.25 %), as Histogram::percentile.
  uint64_t percentile(double fraction) const {
    const uint64_t n = count();
    if (n == 0) return 0;
    const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(fraction * static_cast<double>(n))));
    uint64_t seen = 0;
    for (int i = 0; i < tricolor::Histogram::kBuckets; ++i) {
      seen += after.bucket_count(i) - before.bucket_count(i);
      if (seen >= rank) return std::min(tricolor::Histogram::bucket_upper(i), max());
    }
    return max();
  }
};

}  // namespace tricolor_bench
