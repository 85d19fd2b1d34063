// main.go — the Go peer of tricolor's stw_assign benchmark: flags, the phases
// (live tree, timed rounds, untimed checks), self-validation and the output.
//
//	stwassign --impl go [--threads T] [--entries E] [--live-mb L] [--seconds D]
//	          [--shared] [--histograms FILE]
//
// GOGC and GOMEMLIMIT are honoured by the Go runtime itself.
//
// Invariant: the last line on stdout is exactly one "result: ..." line, and
// it is printed only after every self-check has passed; any failed check
// prints "CHECK FAILED: ..." to stderr and exits with status 1, a bad
// command line prints a message to stderr and exits with status 2.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

func usageError(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "stw_assign: "+format+"\n", args...)
	os.Exit(2)
}

func envOrUnset(name string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return "unset"
}

// g formats a float the way C's %g does (six significant digits).
func g(x float64) string { return fmt.Sprintf("%.6g", x) }

func main() {
	// The flag package accepts -name and --name, with "=value" or " value".
	threads := flag.Int("threads", 2, "mutator threads (goroutines), at least 1")
	entries := flag.Int("entries", 4000000, "keys per thread per round, at least 2")
	liveMB := flag.Int("live-mb", 256, "size of the live tree in MiB (0: no tree)")
	seconds := flag.Float64("seconds", 10, "length of the timed phase in seconds (> 0)")
	sharedFlag := flag.Bool("shared", false, "one map for all threads, under one mutex")
	histFile := flag.String("histograms", "", "write the distributions as JSON to this file")
	impl := flag.String("impl", "", "implementation; this program accepts only: go")
	flag.Parse()

	switch {
	case *impl != "go":
		usageError("--impl must be one of: go (got %q)", *impl)
	case flag.NArg() != 0:
		usageError("unexpected argument %q", flag.Arg(0))
	case *threads < 1:
		usageError("--threads must be at least 1 (got %d)", *threads)
	case *entries < 2:
		usageError("--entries must be at least 2 (got %d)", *entries)
	case *liveMB < 0:
		usageError("--live-mb must not be negative (got %d)", *liveMB)
	case !(*seconds > 0) || math.IsInf(*seconds, 1):
		usageError("--seconds must be a positive number (got %g)", *seconds)
	}
	if !checkBucketLayout() {
		checkFailed("histogram buckets do not tile the uint64 range")
	}

	T := *threads
	E := uint64(*entries)
	durNs := int64(*seconds * 1e9)
	fmt.Printf("stw_assign (go): threads=%d entries=%d live_mb=%d seconds=%g shared=%t GOGC=%s GOMEMLIMIT=%s GOMAXPROCS=%d\n",
		T, E, *liveMB, *seconds, *sharedFlag, envOrUnset("GOGC"), envOrUnset("GOMEMLIMIT"), runtime.GOMAXPROCS(0))
	// SetMemoryLimit with a negative argument only reads the limit.
	fmt.Printf("runtime: %s, memory limit in effect %d bytes\n", runtime.Version(), debug.SetMemoryLimit(-1))

	// ---- live heap (untimed) ----
	nodeSize := int(unsafe.Sizeof(node{}))
	if nodeSize != 32 {
		checkFailed("node is %d bytes, want 32", nodeSize)
	}
	n := int(uint64(*liveMB) << 20 / uint64(nodeSize))
	t0 := nanotime()
	liveRoot = buildTree(n)
	runtime.GC() // the pacer starts the timed phase from the real live heap
	fmt.Printf("live tree: %d nodes of %d bytes built in %.2f s\n", n, nodeSize, float64(nanotime()-t0)/1e9)

	// ---- the clock's own cost (untimed) ----
	// Per call: the cheapest of 20 batches of back-to-back calls, so that a
	// batch in which the thread was descheduled does not count.
	const batches, batch = 20, 50000
	perCall := math.Inf(1)
	for b := 0; b < batches; b++ {
		c0 := nanotime()
		for i := 0; i < batch; i++ {
			nanotime()
		}
		perCall = math.Min(perCall, float64(nanotime()-c0)/batch)
	}
	empty := newHistogram()
	for i := 0; i < batches*batch; i++ {
		a := nanotime()
		empty.record(uint64(nanotime() - a))
	}
	fmt.Printf("nanotime: %.1f ns per call; an empty timed region reads p50=%d p99.9=%d max=%d ns\n",
		perCall, empty.percentile(0.5), empty.percentile(0.999), empty.max)

	// ---- timed phase ----
	workers := make([]*worker, T)
	for i := range workers {
		workers[i] = newWorker(i)
	}
	var sh *shared
	if *sharedFlag {
		sh = &shared{bar: newBarrier(T), threads: uint64(T)}
	}
	var ready, done sync.WaitGroup
	ready.Add(T)
	done.Add(T)
	startGate := make(chan struct{})
	var start int64
	for _, w := range workers {
		go func(w *worker) {
			defer done.Done()
			ready.Done()
			<-startGate // start is written before the gate closes
			if sh != nil {
				w.runShared(sh, E, start, durNs)
			} else {
				w.runOwn(E, start, durNs)
			}
		}(w)
	}
	ready.Wait()
	before := readGC()
	start = nanotime()
	close(startGate)
	done.Wait()
	end := nanotime()
	after := readGC()

	// ---- after the timed phase (untimed) ----
	heapGoal := readUint64Metric("/gc/heap/goal:bytes")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// GCCPUFraction covers the whole process lifetime, so it includes the
	// tree build and the forced collection after it, not just the window.
	gcCPUShare := ms.GCCPUFraction
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		checkFailed("getrusage: %v", err)
	}
	peakRSS := uint64(ru.Maxrss) * 1024

	if err := checkTree(liveRoot, n); err != nil {
		checkFailed("%v", err)
	}

	assign, erase := newHistogram(), newHistogram()
	var assignments, erases, threadRounds uint64
	var spikes []spike
	for _, w := range workers {
		assign.merge(w.assign)
		erase.merge(w.erase)
		assignments += w.assignments
		erases += w.erases
		threadRounds += w.rounds
		spikes = append(spikes, w.spikes.s[:w.spikes.n]...)
	}
	sort.Slice(spikes, func(i, j int) bool { return spikes[i].ns > spikes[j].ns })
	if len(spikes) > topN {
		spikes = spikes[:topN]
	}

	// rounds: rounds summed over threads, or the shared map's rounds.
	rounds := threadRounds
	wantAssign := 2 * E * threadRounds
	wantErase := (E + 1) / 2 * threadRounds
	if sh != nil {
		rounds = sh.rounds
		wantAssign = uint64(T) * E * 2 * rounds
		wantErase = uint64(T) * ((E + 1) / 2) * rounds
		if threadRounds != uint64(T)*rounds {
			checkFailed("shared: threads completed %d rounds in all, want %d x %d", threadRounds, T, rounds)
		}
	}
	if assignments != wantAssign {
		checkFailed("assignments = %d, want %d", assignments, wantAssign)
	}
	if erases != wantErase {
		checkFailed("erases = %d, want %d", erases, wantErase)
	}
	if assign.count != assignments {
		checkFailed("assign histogram holds %d values, want %d", assign.count, assignments)
	}
	if erase.count != erases {
		checkFailed("erase histogram holds %d values, want %d", erase.count, erases)
	}

	pw := newPauseWindow(before, after)
	collections := after.cycles - before.cycles
	// Go 1.19 records two stop-the-world pauses per cycle into
	// /gc/pauses:seconds (sweep termination when the cycle starts, mark
	// termination when it ends) and counts the cycle as completed right after
	// the second one. A cycle already running when the window opens adds one
	// pause and one cycle; a cycle still running when it closes adds one
	// pause and no cycle. So pause_count is 2*collections - 1 .. + 1 at the
	// edges. Mark termination may also find work left over and restart
	// concurrent mark (golang/go#27993), recording one extra pause each
	// time. The rule allows +/-2, which covers the edges plus one such
	// restart. Observed with go1.19.8: exactly 2*collections (e.g. 150 pauses
	// for 75 cycles) or 2*collections + 1 (a cycle still running at the end).
	// Go 1.19 does not record other stop-the-world pauses (ReadMemStats,
	// for one) in this histogram, and metrics.Read does not stop the world.
	if lo, hi := 2*int64(collections)-2, 2*int64(collections)+2; int64(pw.total) < lo || int64(pw.total) > hi {
		checkFailed("pause_count = %d, want %d..%d for %d collections", pw.total, lo, hi, collections)
	}

	wall := float64(end-start) / 1e9
	perThread := make([]string, T)
	for i, w := range workers {
		perThread[i] = fmt.Sprint(w.rounds)
	}
	fmt.Printf("rounds per thread: %s; pause buckets match tricolor's layout: %t\n",
		strings.Join(perThread, ","), sameLayoutAsOurs(after.pauses.Buckets))
	fmt.Printf("assign: mean=%.1f ns min=%d ns; erase: p50=%d p99=%d ns; gc cycles %d..%d\n",
		float64(assign.sum)/float64(assign.count), assign.minValue(),
		erase.percentile(0.5), erase.percentile(0.99), before.cycles, after.cycles)
	for i, sp := range spikes {
		fmt.Printf("spike %d: %d ns thread=%d map_size=%d cycles=%d\n", i+1, sp.ns, sp.thread, sp.mapSize, sp.cycles)
	}

	if *histFile != "" {
		if err := writeHistograms(*histFile, assign, erase, pw, spikes); err != nil {
			fmt.Fprintf(os.Stderr, "stw_assign: writing %s: %v\n", *histFile, err)
			os.Exit(1)
		}
		fmt.Printf("wrote %s\n", *histFile)
	}

	fmt.Printf("result: impl=go wall_s=%s ops_per_s=%s assignments=%d erases=%d rounds=%d collections=%d "+
		"pause_count=%d pause_p50_ns=%d pause_p99_ns=%d pause_p999_ns=%d pause_max_ns=%d "+
		"assign_p50_ns=%d assign_p99_ns=%d assign_p999_ns=%d assign_max_ns=%d "+
		"erase_p999_ns=%d erase_max_ns=%d gc_cpu_share=%s heap_goal_bytes=%d peak_rss_bytes=%d\n",
		g(wall), g(float64(assignments)/wall), assignments, erases, rounds, collections,
		pw.total, pw.percentile(0.50), pw.percentile(0.99), pw.percentile(0.999), pw.max(),
		assign.percentile(0.50), assign.percentile(0.99), assign.percentile(0.999), assign.max,
		erase.percentile(0.999), erase.max, g(gcCPUShare), heapGoal, peakRSS)
	runtime.KeepAlive(liveRoot)
}

type spikeJSON struct {
	Ns      int64  `json:"ns"`
	MapSize int    `json:"map_size"`
	Cycles  uint64 `json:"cycles"`
	Thread  int    `json:"thread"`
}

type histogramsJSON struct {
	Impl   string      `json:"impl"`
	Assign [][2]uint64 `json:"assign_ns"`
	Erase  [][2]uint64 `json:"erase_ns"`
	Pause  [][2]uint64 `json:"pause_ns"`
	Spikes []spikeJSON `json:"spikes"`
}

func writeHistograms(path string, assign, erase *histogram, pw pauseWindow, spikes []spike) error {
	out := histogramsJSON{
		Impl:   "go",
		Assign: assign.nonEmpty(),
		Erase:  erase.nonEmpty(),
		Pause:  pw.nonEmpty(),
		Spikes: make([]spikeJSON, 0, len(spikes)),
	}
	for _, sp := range spikes {
		out.Spikes = append(out.Spikes, spikeJSON{sp.ns, sp.mapSize, sp.cycles, sp.thread})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
