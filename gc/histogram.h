// histogram.h — the one latency histogram type (pauses, time-to-safepoint,
// and later assist slices and per-operation latencies).
//
// Owns: a log-linear histogram of nanosecond values in the spirit of
// HdrHistogram: 2^kSubBucketBits linear sub-buckets per power of two, so any
// percentile is reported within 1/16 (6.25 %) of the true value, while count,
// sum, min and max are exact. Recording is O(1) and allocation-free.
// Invariant: percentile(p) never exceeds max() and never falls below min().
// Not thread-safe: the owner serialises recording and copying.
#pragma once

#include <array>
#include <cstdint>

namespace tricolor {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 4;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kBuckets = (64 - kSubBucketBits + 1) * kSubBuckets;

  void record(uint64_t value_ns);
  void merge(const Histogram& other);

  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  // The value at or below which `fraction` (0..1) of the recorded values lie,
  // as the upper edge of its bucket clamped to [min, max].
  uint64_t percentile(double fraction) const;

  // Bucket boundaries, for exporting the full distribution.
  static int bucket_of(uint64_t value);
  static uint64_t bucket_upper(int bucket);
  uint64_t bucket_count(int bucket) const { return counts_[bucket]; }

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace tricolor
