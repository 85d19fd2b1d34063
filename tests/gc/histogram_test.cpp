// histogram_test.cpp — the latency histogram: exact count/min/max/sum,
// percentiles within a bucket's precision, buckets that tile the value range.
#include <doctest/doctest.h>

#include <random>
#include <vector>
#include <algorithm>

#include "../../gc/histogram.h"

using tricolor::Histogram;

TEST_CASE("buckets tile the value range without gaps or overlap") {
  for (int b = 1; b < Histogram::kBuckets - 1; ++b) {
    const uint64_t upper = Histogram::bucket_upper(b);
    REQUIRE(Histogram::bucket_of(upper) == b);
    REQUIRE(Histogram::bucket_of(upper + 1) == b + 1);
  }
  CHECK(Histogram::bucket_of(0) == 0);
  CHECK(Histogram::bucket_of(UINT64_MAX) == Histogram::kBuckets - 1);
}

TEST_CASE("count, sum, min, max are exact; empty histogram reads zero") {
  Histogram h;
  CHECK(h.count() == 0);
  CHECK(h.percentile(0.99) == 0);
  CHECK(h.min() == 0);
  for (uint64_t v : {5u, 1000u, 70u, 123456789u}) h.record(v);
  CHECK(h.count() == 4);
  CHECK(h.sum() == 5 + 1000 + 70 + 123456789);
  CHECK(h.min() == 5);
  CHECK(h.max() == 123456789);
  CHECK(h.percentile(1.0) == 123456789);
  CHECK(h.percentile(0.0) == 5);
}

TEST_CASE("percentiles are within 1/16 of the exact order statistic") {
  std::mt19937_64 rng(12345);
  std::lognormal_distribution<double> dist(10.0, 2.0);
  std::vector<uint64_t> values;
  Histogram h;
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<uint64_t>(dist(rng)) + 1;
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {0.5, 0.9, 0.99, 0.999}) {
    const uint64_t exact = values[static_cast<size_t>(p * values.size()) - 1];
    const uint64_t approx = h.percentile(p);
    CAPTURE(p);
    CHECK(approx >= exact);
    CHECK(approx <= exact + exact / 16 + 1);
  }
}

TEST_CASE("merge adds distributions") {
  Histogram a, b;
  a.record(10);
  b.record(20);
  b.record(30);
  a.merge(b);
  CHECK(a.count() == 3);
  CHECK(a.min() == 10);
  CHECK(a.max() == 30);
  CHECK(a.sum() == 60);
}
