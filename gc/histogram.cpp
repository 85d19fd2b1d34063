// histogram.cpp — bucket arithmetic of the latency histogram (histogram.h).
#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace tricolor {

// Values below kSubBuckets map one to one; above, a value with its highest bit
// at position h lands in row h - kSubBucketBits + 1, sub-bucket given by the
// kSubBucketBits bits under the highest one.
int Histogram::bucket_of(uint64_t value) {
  if (value < kSubBuckets) return static_cast<int>(value);
  const int high = 63 - std::countl_zero(value);
  const int row = high - kSubBucketBits + 1;
  const int sub = static_cast<int>((value >> (high - kSubBucketBits)) & (kSubBuckets - 1));
  return row * kSubBuckets + sub;
}

uint64_t Histogram::bucket_upper(int bucket) {
  if (bucket < kSubBuckets) return static_cast<uint64_t>(bucket);
  const int row = bucket / kSubBuckets;
  const int sub = bucket % kSubBuckets;
  const int high = row + kSubBucketBits - 1;
  const int shift = high - kSubBucketBits;
  const uint64_t lower = (uint64_t{1} << high) | (static_cast<uint64_t>(sub) << shift);
  return lower + ((uint64_t{1} << shift) - 1);
}

void Histogram::record(uint64_t value_ns) {
  ++counts_[bucket_of(value_ns)];
  ++count_;
  sum_ += value_ns;
  min_ = std::min(min_, value_ns);
  max_ = std::max(max_, value_ns);
}

void Histogram::merge(const Histogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t Histogram::percentile(double fraction) const {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(fraction, 0.0, 1.0);
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(clamped * count_)));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(bucket_upper(i), min(), max_);
  }
  return max_;
}

}  // namespace tricolor
