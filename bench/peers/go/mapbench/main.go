// main.go — the Go peer of tricolor's map benchmarks: the same workload as the
// C++ side, run on Go's built-in map[uint64]uint64 under Go's collector.
//
//	mapbench -mode throughput -sizes 1000,10000,100000,1000000,10000000 -out FILE
//	mapbench -mode growth -entries 10000000 -live-mb 64 -out FILE
//
// Keys: key i (i = 0..N-1) is mix(i), splitmix64's finalizer, and its value is
// i; the missing keys for lookup_miss are mix(i + N). mix is a bijection on
// uint64, so the N keys are distinct and no missing key is present. Keys are
// computed inline (mix is a few multiplies), not read from a precomputed array.
//
// FILE receives one flat JSON object of metric name -> number; a short human
// summary goes to stdout.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// mix is splitmix64's finalizer.
func mix(i uint64) uint64 {
	z := i + 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// sink receives the lookup and iteration sums, so that no loop is dead code.
var sink uint64

// metric is one entry of the output: a flat name and a number.
type metric struct {
	name  string
	value float64
}

func main() {
	mode := flag.String("mode", "throughput", "throughput or growth")
	sizes := flag.String("sizes", "1000,10000,100000,1000000,10000000", "throughput: comma-separated map sizes")
	reps := flag.Int("reps", 3, "throughput: repetitions of each measurement (the median is reported)")
	minTime := flag.Duration("min-time", 200*time.Millisecond, "throughput: least timed work in one repetition")
	entries := flag.Int("entries", 10000000, "growth: number of keys the map grows to")
	liveMB := flag.Int("live-mb", 64, "growth: size of the live tree, in MiB")
	out := flag.String("out", "", "output JSON file (required)")
	flag.Parse()
	if *out == "" {
		fail("-out FILE is required")
	}

	fmt.Printf("mapbench %s: %s, GOMAXPROCS=%d, GOGC=%q\n",
		*mode, runtime.Version(), runtime.GOMAXPROCS(0), os.Getenv("GOGC"))
	var ms []metric
	switch *mode {
	case "throughput":
		ns, err := parseSizes(*sizes)
		if err != nil {
			fail(err.Error())
		}
		if *reps < 1 {
			fail("-reps must be at least 1")
		}
		ms = throughput(ns, *reps, *minTime)
	case "growth":
		if *entries < 1 || *liveMB < 0 {
			fail("-entries must be at least 1 and -live-mb not negative")
		}
		ms = growth(*entries, *liveMB)
	default:
		fail("-mode must be throughput or growth")
	}
	if err := writeJSON(*out, ms); err != nil {
		fail(err.Error())
	}
	fmt.Printf("wrote %s\n", *out)
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "mapbench:", msg)
	os.Exit(2)
}

func parseSizes(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad size %q in -sizes", f)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// writeJSON writes the metrics, in order, as one flat JSON object.
func writeJSON(path string, ms []metric) error {
	var b strings.Builder
	b.WriteString("{")
	for i, m := range ms {
		if math.IsNaN(m.value) || math.IsInf(m.value, 0) {
			return fmt.Errorf("metric %s is not a finite number", m.name)
		}
		name, _ := json.Marshal(m.name)
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n  %s: %s", name, strconv.FormatFloat(m.value, 'f', -1, 64))
	}
	b.WriteString("\n}\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// ---- throughput --------------------------------------------------------

// fill grows a new map, with no size hint, to keys 0..n-1.
func fill(n int) map[uint64]uint64 {
	m := make(map[uint64]uint64)
	for i := 0; i < n; i++ {
		m[mix(uint64(i))] = uint64(i)
	}
	return m
}

// nsPerOp measures one operation over n keys. round runs it once and returns
// the time of its timed part only (a round may first build a map, untimed).
// Each repetition repeats rounds until at least minTime of timed work is done
// and yields nanoseconds per key; the median of reps repetitions is returned.
func nsPerOp(n, reps int, minTime time.Duration, round func() time.Duration) float64 {
	results := make([]float64, reps)
	for r := range results {
		runtime.GC() // each repetition starts without the previous one's garbage
		var timed time.Duration
		rounds := 0
		for timed < minTime {
			timed += round()
			rounds++
		}
		results[r] = float64(timed.Nanoseconds()) / (float64(rounds) * float64(n))
	}
	sort.Float64s(results)
	return results[len(results)/2]
}

func throughput(sizes []int, reps int, minTime time.Duration) []metric {
	var ms []metric
	fmt.Printf("%10s %10s %10s %10s %10s %10s   (ns per op; iterate: per entry; median of %d)\n",
		"N", "insert", "hit", "miss", "iterate", "erase", reps)
	for _, n := range sizes {
		start := time.Now()
		full := fill(n) // untimed: the map that lookups and iteration read
		if len(full) != n {
			panic("mix produced a duplicate key")
		}

		insert := nsPerOp(n, reps, minTime, func() time.Duration {
			t := time.Now()
			m := fill(n)
			d := time.Since(t)
			sink += uint64(len(m))
			return d
		})
		hit := nsPerOp(n, reps, minTime, func() time.Duration {
			var s uint64
			t := time.Now()
			for i := 0; i < n; i++ {
				s += full[mix(uint64(i))]
			}
			d := time.Since(t)
			sink += s
			return d
		})
		miss := nsPerOp(n, reps, minTime, func() time.Duration {
			var s uint64
			t := time.Now()
			for i := 0; i < n; i++ {
				s += full[mix(uint64(i+n))]
			}
			d := time.Since(t)
			sink += s
			return d
		})
		iterate := nsPerOp(n, reps, minTime, func() time.Duration {
			var s uint64
			t := time.Now()
			for _, v := range full {
				s += v
			}
			d := time.Since(t)
			sink += s
			return d
		})
		erase := nsPerOp(n, reps, minTime, func() time.Duration {
			m := fill(n) // untimed: a fresh full map
			t := time.Now()
			for i := 0; i < n; i++ {
				delete(m, mix(uint64(i)))
			}
			d := time.Since(t)
			if len(m) != 0 {
				panic("erase left keys behind")
			}
			return d
		})

		suffix := "_" + strconv.Itoa(n)
		ms = append(ms,
			metric{"insert_ns_per_op" + suffix, insert},
			metric{"lookup_hit_ns_per_op" + suffix, hit},
			metric{"lookup_miss_ns_per_op" + suffix, miss},
			metric{"iterate_ns_per_entry" + suffix, iterate},
			metric{"erase_ns_per_op" + suffix, erase})
		fmt.Printf("%10d %10.2f %10.2f %10.2f %10.2f %10.2f   (%.1f s)\n",
			n, insert, hit, miss, iterate, erase, time.Since(start).Seconds())
		full = nil
	}
	return ms
}

// ---- growth ------------------------------------------------------------

// node is a 32-byte, pointer-rich heap object (two pointers, two words).
type node struct {
	left, right *node
	a, b        uint64
}

// tree builds a balanced binary tree of n nodes.
func tree(n int) *node {
	if n == 0 {
		return nil
	}
	rest := n - 1
	return &node{left: tree(rest / 2), right: tree(rest - rest/2), a: uint64(n)}
}

// live is the live heap: reachable for the whole run.
var live *node

// latencyBuffer returns a zeroed []int64 of length n that lives outside the Go
// heap, in an anonymous mapping: a make([]int64, n) would add n*8 bytes (80 MB
// at 10 M entries) to the heap the pacer sizes its goal from, and so change
// how often Go collects, which the C++ side's buffer does not do to its GC.
// Every page is written here, so no page fault of the buffer lands in the loop.
func latencyBuffer(n int) []int64 {
	b, err := syscall.Mmap(-1, 0, n*8, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		fail("mmap of the latency buffer: " + err.Error())
	}
	lat := unsafe.Slice((*int64)(unsafe.Pointer(&b[0])), n)
	for i := range lat {
		lat[i] = 0
	}
	return lat
}

// pauses reads the runtime's histogram of individual stop-the-world GC pauses
// (cumulative since the process started).
func pauses() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: "/gc/pauses:seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64Histogram()
}

// pauseStats returns the p99 and the largest pause, in ns, of the pauses
// recorded between two readings of the histogram. Each value is the upper
// bound of its histogram bucket (Go's buckets are ~6% wide), so it is an
// over-estimate by at most a bucket; 0 and 0 if there was no pause.
func pauseStats(before, after *metrics.Float64Histogram) (p99, max float64) {
	counts := make([]uint64, len(after.Counts))
	var total uint64
	for i := range counts {
		counts[i] = after.Counts[i] - before.Counts[i]
		total += counts[i]
	}
	if total == 0 {
		return 0, 0
	}
	// upper is bucket i's upper bound in ns (its lower bound for the last, open bucket).
	upper := func(i int) float64 {
		if math.IsInf(after.Buckets[i+1], 1) {
			return after.Buckets[i] * 1e9
		}
		return after.Buckets[i+1] * 1e9
	}
	rank := uint64(math.Ceil(0.99 * float64(total))) // nearest rank
	var seen uint64
	for i, c := range counts {
		if c == 0 {
			continue
		}
		if seen < rank && seen+c >= rank {
			p99 = upper(i)
		}
		seen += c
		max = upper(i)
	}
	return p99, max
}

// peakRSS returns VmHWM from /proc/self/status, in bytes (0 if unreadable).
func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text()) // "VmHWM:  123456 kB"
		if len(fields) == 3 && fields[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(fields[1], 64)
			return kb * 1024
		}
	}
	return 0
}

type int64s []int64

func (s int64s) Len() int           { return len(s) }
func (s int64s) Less(i, j int) bool { return s[i] < s[j] }
func (s int64s) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }

// percentile returns the nearest-rank p-th percentile (0 < p <= 1) of sorted.
func percentile(sorted []int64, p float64) float64 {
	rank := int(math.Ceil(p * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return float64(sorted[rank-1])
}

func growth(entries, liveMB int) []metric {
	// The live heap: a tree of 32-byte nodes totalling about liveMB MiB.
	nodes := liveMB << 20 / int(unsafe.Sizeof(node{}))
	t0 := time.Now()
	live = tree(nodes)
	runtime.GC() // the pacer's goal now comes from the real live heap
	fmt.Printf("live tree: %d nodes (%d MiB) built in %.2f s\n",
		nodes, liveMB, time.Since(t0).Seconds())

	lat := latencyBuffer(entries)

	// Timer overhead, for reading the figures: one time.Now + time.Since pair.
	overhead := make([]int64, 100000)
	for i := range overhead {
		t := time.Now()
		overhead[i] = int64(time.Since(t))
	}
	sort.Sort(int64s(overhead))

	// The garbage maker: 1000-node throwaway trees, yielding between trees.
	var stop atomic.Bool
	done := make(chan int64)
	go func() {
		var made int64
		for !stop.Load() {
			tree(1000)
			made++
			runtime.Gosched()
		}
		done <- made
	}()

	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	pausesBefore := pauses()

	// The growth loop: every insert timed on its own; lat[i] holds the
	// duration of the insert made when the map had i entries.
	m := make(map[uint64]uint64)
	start := time.Now()
	for i := 0; i < entries; i++ {
		k := mix(uint64(i))
		t := time.Now()
		m[k] = uint64(i)
		lat[i] = int64(time.Since(t))
	}
	total := time.Since(start)

	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	pausesAfter := pauses()
	stop.Store(true)
	garbageTrees := <-done
	if len(m) != entries {
		panic("the map lost keys")
	}

	// Largest insert and where it happened, and the count over 50 µs,
	// before sorting the buffer in place.
	var maxNs int64
	maxAt, over50us := 0, 0
	for i, d := range lat {
		if d > maxNs {
			maxNs, maxAt = d, i
		}
		if d > 50000 {
			over50us++
		}
	}
	sort.Sort(int64s(lat))
	pauseP99, pauseMax := pauseStats(pausesBefore, pausesAfter)

	ms := []metric{
		{"insert_p50_ns", percentile(lat, 0.50)},
		{"insert_p99_ns", percentile(lat, 0.99)},
		{"insert_p999_ns", percentile(lat, 0.999)},
		{"insert_p9999_ns", percentile(lat, 0.9999)},
		{"insert_max_ns", float64(maxNs)},
		{"insert_max_at_entries", float64(maxAt)},
		{"inserts_over_50us", float64(over50us)},
		{"total_s", total.Seconds()},
		{"collections", float64(after.NumGC - before.NumGC)},
		{"pause_max_ns", pauseMax},
		{"pause_p99_ns", pauseP99},
		{"peak_rss_bytes", peakRSS()},
	}
	for _, m := range ms {
		fmt.Printf("  %-22s %.6g\n", m.name, m.value)
	}
	fmt.Printf("timer overhead (time.Now + time.Since): median %d ns\n", overhead[len(overhead)/2])
	fmt.Printf("garbage: %d trees of 1000 nodes, %.0f MB/s\n", garbageTrees,
		float64(garbageTrees)*1000*float64(unsafe.Sizeof(node{}))/1e6/total.Seconds())
	runtime.KeepAlive(live)
	return ms
}
