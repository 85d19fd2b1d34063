// gcmetrics.go — owns what stw_assign reads from Go's runtime about its
// collector: the /gc/pauses:seconds histogram and the completed-cycle count
// before and after the timed phase, and the pause statistics of that window.
//
// Invariant: the window's pauses are the bucket-wise difference of two
// cumulative readings, so they are exactly the pauses the runtime recorded
// between the readings; every value derived from a bucket is the largest
// integer nanosecond count the bucket holds (Go records whole nanoseconds),
// except for the open top bucket, which is represented by its lower bound.
package main

import (
	"math"
	"runtime/metrics"
)

// gcReading is one snapshot of the cumulative GC counters.
type gcReading struct {
	pauses *metrics.Float64Histogram
	cycles uint64
}

func readGC() gcReading {
	s := []metrics.Sample{
		{Name: "/gc/pauses:seconds"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
	metrics.Read(s)
	return gcReading{pauses: s[0].Value.Float64Histogram(), cycles: s[1].Value.Uint64()}
}

func readUint64Metric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// pauseWindow holds the pauses recorded between two readings. Go 1.19's
// buckets: bucket i is [buckets[i], buckets[i+1]) seconds; bucket 0 is
// (-Inf, 0) (never used by real pauses), then 0..15 ns one nanosecond each,
// then 16 equal buckets per power of two up to 2^48 ns, then [.., +Inf).
type pauseWindow struct {
	buckets []float64
	counts  []uint64
	total   uint64
}

func newPauseWindow(before, after gcReading) pauseWindow {
	w := pauseWindow{buckets: after.pauses.Buckets, counts: make([]uint64, len(after.pauses.Counts))}
	for i := range w.counts {
		w.counts[i] = after.pauses.Counts[i] - before.pauses.Counts[i]
		w.total += w.counts[i]
	}
	return w
}

// edgeNs is the value reported for bucket i: the largest whole nanosecond
// below its upper bound. For the open top bucket, whose upper bound is +Inf,
// it is the bucket's lower bound instead (a pause of more than 2^47 ns, about
// 39 hours, which no run will see).
func (w pauseWindow) edgeNs(i int) uint64 {
	hi := w.buckets[i+1]
	if math.IsInf(hi, 1) {
		return uint64(math.Round(w.buckets[i] * 1e9))
	}
	ns := math.Round(hi * 1e9)
	if ns < 1 {
		return 0
	}
	return uint64(ns) - 1
}

// percentile: the edge of the bucket holding rank max(1, ceil(f*total)).
func (w pauseWindow) percentile(f float64) uint64 {
	if w.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(f * float64(w.total)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range w.counts {
		seen += c
		if seen >= rank {
			return w.edgeNs(i)
		}
	}
	return 0
}

// max: the edge of the highest bucket that gained counts in the window.
func (w pauseWindow) max() uint64 {
	for i := len(w.counts) - 1; i >= 0; i-- {
		if w.counts[i] != 0 {
			return w.edgeNs(i)
		}
	}
	return 0
}

func (w pauseWindow) nonEmpty() [][2]uint64 {
	out := make([][2]uint64, 0, 16)
	for i, c := range w.counts {
		if c != 0 {
			out = append(out, [2]uint64{w.edgeNs(i), c})
		}
	}
	return out
}

// sameLayoutAsOurs reports whether Go's pause buckets (after the underflow
// bucket) have exactly tricolor's bucket edges, so that pause_ns and the C++
// side's pause histogram compare bucket for bucket.
func sameLayoutAsOurs(buckets []float64) bool {
	for i := 1; i+1 < len(buckets)-1 && i-1 < numBuckets; i++ {
		if uint64(math.Round(buckets[i+1]*1e9))-1 != bucketUpper(i-1) {
			return false
		}
	}
	return true
}
