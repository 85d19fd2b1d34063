// hist.go — owns the log-linear latency histogram of the stw_assign Go peer,
// bucket for bucket the same as tricolor::Histogram (gc/histogram.h), so the
// two sides' distributions and percentiles can be compared edge for edge.
//
// Invariant: every uint64 value falls in exactly one bucket; values 0..15 have
// a bucket each, and above that each power of two [2^p, 2^(p+1)) is cut into
// 16 buckets of equal width 2^(p-4). A bucket's upper edge is the largest value
// it holds. count, sum, min and max are exact; percentile() is the upper edge
// of the bucket holding the nearest rank, clamped to [min, max].
// Not safe for concurrent use: each thread records into its own histogram and
// the histograms are merged after the threads have finished.
package main

import (
	"math"
	"math/bits"
)

const (
	subBucketBits = 4
	subBuckets    = 1 << subBucketBits
	// Rows 0 (values 0..15) and 1..60 (highest bit 4..63), 16 buckets each.
	numBuckets = (64 - subBucketBits + 1) * subBuckets
)

type histogram struct {
	counts [numBuckets]uint64
	count  uint64
	sum    uint64
	min    uint64
	max    uint64
}

func newHistogram() *histogram { return &histogram{min: math.MaxUint64} }

// bucketOf: a value with its highest set bit at position high (>= 4) lies in
// row high-3; the four bits just below the highest one pick the sub-bucket.
func bucketOf(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	high := bits.Len64(v) - 1
	row := high - subBucketBits + 1
	sub := int((v >> uint(high-subBucketBits)) & (subBuckets - 1))
	return row*subBuckets + sub
}

// bucketUpper is the largest value that bucketOf maps to bucket b.
func bucketUpper(b int) uint64 {
	if b < subBuckets {
		return uint64(b)
	}
	row, sub := b/subBuckets, b%subBuckets
	high := row + subBucketBits - 1
	shift := uint(high - subBucketBits)
	lower := uint64(1)<<uint(high) | uint64(sub)<<shift
	return lower + (uint64(1)<<shift - 1)
}

// checkBucketLayout verifies that the buckets tile the uint64 range: each
// bucket's upper edge maps back to it and the next value to the next bucket.
func checkBucketLayout() bool {
	if bucketOf(0) != 0 || bucketUpper(numBuckets-1) != math.MaxUint64 {
		return false
	}
	for b := 0; b < numBuckets; b++ {
		u := bucketUpper(b)
		if bucketOf(u) != b {
			return false
		}
		if b+1 < numBuckets && bucketOf(u+1) != b+1 {
			return false
		}
	}
	return true
}

func (h *histogram) record(v uint64) {
	h.counts[bucketOf(v)]++
	h.count++
	h.sum += v
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
}

func (h *histogram) merge(o *histogram) {
	for i := range h.counts {
		h.counts[i] += o.counts[i]
	}
	h.count += o.count
	h.sum += o.sum
	if o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
}

func (h *histogram) minValue() uint64 {
	if h.count == 0 {
		return 0
	}
	return h.min
}

// percentile returns the upper edge of the bucket holding rank
// max(1, ceil(f*count)), clamped to [min, max]; 0 for an empty histogram.
func (h *histogram) percentile(f float64) uint64 {
	if h.count == 0 {
		return 0
	}
	f = math.Max(0, math.Min(1, f))
	rank := uint64(math.Ceil(f * float64(h.count)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			u := bucketUpper(b)
			if u < h.min {
				u = h.min
			}
			if u > h.max {
				u = h.max
			}
			return u
		}
	}
	return h.max
}

// nonEmpty lists [upper edge, count] for every bucket that holds values.
func (h *histogram) nonEmpty() [][2]uint64 {
	out := make([][2]uint64, 0, 64)
	for b, c := range h.counts {
		if c != 0 {
			out = append(out, [2]uint64{bucketUpper(b), c})
		}
	}
	return out
}
