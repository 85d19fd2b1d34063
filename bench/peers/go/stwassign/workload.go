// workload.go — owns the stw_assign workload itself: the live tree, the
// per-thread and shared map rounds, the per-operation timing and the spikes.
//
// Invariants: every insert, overwrite and erase is timed on its own (no
// coordinated omission: nothing is skipped or batched, a slow operation costs
// exactly its own latency); the timed region of an assignment is the
// allocation of its new value object plus the map store (plus, with --shared,
// the lock acquisition, the len read and the unlock); histograms, counters and
// spike bookkeeping are updated outside the timed region; a round that has
// started always completes, and the deadline is looked at only between rounds.
package main

import (
	"fmt"
	"math/bits"
	"os"
	"runtime/metrics"
	"sync"
	_ "unsafe" // for go:linkname
)

// nanotime is the runtime's monotonic clock in nanoseconds: in Go 1.19 the
// cheapest monotonic reading available (time.Now also reads the wall clock).
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// node is one 32-byte node of the live tree.
type node struct {
	left, right, cross *node
	id                 int64
}

// sentinel is allocated once per thread; every value points at its thread's.
type sentinel struct {
	id  int64
	pad int64
}

// value is the 16-byte map value with one pointer, so the collector has to
// trace every value the map holds.
type value struct {
	s *sentinel
	n int64
}

// liveRoot keeps the tree reachable until the end of the program.
var liveRoot *node

// crossOf is the id of node i's cross pointer target: (i*2654435761 + 12345) mod n,
// computed in 128 bits so that no tree size can overflow it.
func crossOf(i, n uint64) uint64 {
	hi, lo := bits.Mul64(i, 2654435761)
	lo, carry := bits.Add64(lo, 12345, 0)
	hi += carry
	return bits.Rem64(hi, lo, n)
}

// buildTree allocates n nodes one by one, ids in breadth-first order, and
// links node i to children 2i+1, 2i+2 and to its cross target. The index
// slice is dropped on return, so only the root keeps the tree alive.
func buildTree(n int) *node {
	if n == 0 {
		return nil
	}
	nodes := make([]*node, n)
	for i := range nodes {
		nodes[i] = &node{id: int64(i)}
	}
	for i, nd := range nodes {
		if l := 2*i + 1; l < n {
			nd.left = nodes[l]
		}
		if r := 2*i + 2; r < n {
			nd.right = nodes[r]
		}
		nd.cross = nodes[crossOf(uint64(i), uint64(n))]
	}
	return nodes[0]
}

// checkTree walks the tree from root via left/right and returns an error
// unless it reaches exactly n nodes, each with an id below n, each once by
// count, and each cross pointer at the node its id promises.
func checkTree(root *node, n int) error {
	count := 0
	var stack []*node
	if root != nil {
		stack = append(stack, root)
	}
	for len(stack) > 0 {
		nd := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		count++
		if count > n {
			return fmt.Errorf("tree walk reached more than %d nodes", n)
		}
		if nd.id < 0 || nd.id >= int64(n) {
			return fmt.Errorf("tree node has id %d outside 0..%d", nd.id, n-1)
		}
		if want := int64(crossOf(uint64(nd.id), uint64(n))); nd.cross == nil || nd.cross.id != want {
			return fmt.Errorf("tree node %d: cross pointer does not reach node %d", nd.id, want)
		}
		if nd.left != nil {
			stack = append(stack, nd.left)
		}
		if nd.right != nil {
			stack = append(stack, nd.right)
		}
	}
	if count != n {
		return fmt.Errorf("tree walk reached %d nodes, want %d", count, n)
	}
	return nil
}

// checkFailed reports a failed self-check and ends the program with status 1.
func checkFailed(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "CHECK FAILED: "+format+"\n", args...)
	os.Exit(1)
}

// ---- spikes --------------------------------------------------------------

const topN = 8

type spike struct {
	ns      int64
	mapSize int
	cycles  uint64
	thread  int
}

// topSpikes holds a thread's topN largest assignment latencies. floor is the
// smallest latency held once the set is full (-1 before), so the hot path
// only compares against it.
type topSpikes struct {
	s     [topN]spike
	n     int
	floor int64
}

func (t *topSpikes) add(sp spike) {
	if t.n < topN {
		t.s[t.n] = sp
		t.n++
	} else {
		lo := 0
		for i := 1; i < topN; i++ {
			if t.s[i].ns < t.s[lo].ns {
				lo = i
			}
		}
		if sp.ns <= t.s[lo].ns {
			return
		}
		t.s[lo] = sp
	}
	if t.n == topN {
		t.floor = t.s[0].ns
		for i := 1; i < topN; i++ {
			if t.s[i].ns < t.floor {
				t.floor = t.s[i].ns
			}
		}
	}
}

// ---- workers -------------------------------------------------------------

// worker is one mutator thread's private state; nothing in it is shared.
type worker struct {
	id          int
	s           *sentinel
	assign      *histogram
	erase       *histogram
	spikes      topSpikes
	assignments uint64
	erases      uint64
	rounds      uint64
	cycles      []metrics.Sample
	_           [64]byte // keeps two workers' hot counters off one cache line
}

func newWorker(id int) *worker {
	return &worker{
		id:     id,
		s:      &sentinel{id: int64(id)},
		assign: newHistogram(),
		erase:  newHistogram(),
		spikes: topSpikes{floor: -1},
		cycles: []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}},
	}
}

// noteSpike is called, after the op's timing has been taken, only when d
// would enter the top set; only then is the GC cycle count read.
func (w *worker) noteSpike(d int64, size int) {
	metrics.Read(w.cycles)
	w.spikes.add(spike{ns: d, mapSize: size, cycles: w.cycles[0].Value.Uint64(), thread: w.id})
}

// checkKeys spot-checks a map after a round: a few odd-index keys hold their
// overwritten value (n = key+1, this thread's sentinel), a few even-index keys
// are gone. keyOf maps an index 0..E-1 to the thread's key.
func (w *worker) checkKeys(m map[uint64]*value, entries uint64, keyOf func(uint64) uint64) {
	lastOdd := entries - 1
	if lastOdd%2 == 0 {
		lastOdd--
	}
	for _, k := range []uint64{1, lastOdd, (entries / 2) | 1} { // all odd, all < E
		key := keyOf(k)
		v, ok := m[key]
		if !ok || v == nil {
			checkFailed("thread %d: key %d missing after round", w.id, key)
		}
		if v.s != w.s || v.n != int64(key)+1 {
			checkFailed("thread %d: key %d holds n=%d (sentinel ok: %v), want n=%d",
				w.id, key, v.n, v.s == w.s, key+1)
		}
	}
	for _, k := range []uint64{0, (entries - 1) &^ 1} {
		if _, ok := m[keyOf(k)]; ok {
			checkFailed("thread %d: erased key %d still present after round", w.id, keyOf(k))
		}
	}
}

// ownRound is one round on a map private to this thread, keys 0..E-1.
func (w *worker) ownRound(entries uint64) {
	s := w.s
	assign, erase := w.assign, w.erase
	m := make(map[uint64]*value) // no size hint: the map grows during the round
	for k := uint64(0); k < entries; k++ {
		size := len(m)
		t0 := nanotime()
		v := &value{s, int64(k)}
		m[k] = v
		d := nanotime() - t0
		assign.record(uint64(d))
		if d > w.spikes.floor {
			w.noteSpike(d, size)
		}
	}
	for k := uint64(0); k < entries; k++ {
		size := len(m)
		t0 := nanotime()
		v := &value{s, int64(k) + 1}
		m[k] = v
		d := nanotime() - t0
		assign.record(uint64(d))
		if d > w.spikes.floor {
			w.noteSpike(d, size)
		}
	}
	for k := uint64(0); k < entries; k += 2 {
		t0 := nanotime()
		delete(m, k)
		d := nanotime() - t0
		erase.record(uint64(d))
	}
	w.assignments += 2 * entries
	w.erases += (entries + 1) / 2

	// Untimed checks, then the map is dropped.
	if want := entries - (entries+1)/2; uint64(len(m)) != want {
		checkFailed("thread %d: map holds %d entries after round, want %d", w.id, len(m), want)
	}
	w.checkKeys(m, entries, func(k uint64) uint64 { return k })
	w.rounds++
}

// runOwn: rounds until the deadline has passed (looked at between rounds).
func (w *worker) runOwn(entries uint64, start, durNs int64) {
	for {
		w.ownRound(entries)
		if nanotime()-start >= durNs {
			return
		}
	}
}

// ---- shared map ----------------------------------------------------------

// barrier is a reusable rendezvous for a fixed number of goroutines.
type barrier struct {
	mu      sync.Mutex
	cond    sync.Cond
	n       int
	waiting int
	gen     uint64
}

func newBarrier(n int) *barrier {
	b := &barrier{n: n}
	b.cond.L = &b.mu
	return b
}

func (b *barrier) wait() {
	b.mu.Lock()
	gen := b.gen
	b.waiting++
	if b.waiting == b.n {
		b.waiting = 0
		b.gen++
		b.cond.Broadcast()
	} else {
		for gen == b.gen {
			b.cond.Wait()
		}
	}
	b.mu.Unlock()
}

// shared is the one map of --shared and what the threads agree on through
// the barrier. m, stop and rounds are written only by thread 0, between
// barriers; mu guards the map's contents during a round.
type shared struct {
	mu      sync.Mutex
	m       map[uint64]*value
	bar     *barrier
	threads uint64
	stop    bool
	rounds  uint64
}

// runShared: thread t of T works on keys k*T + t of the shared map, every
// operation under the one mutex, rounds separated by barriers.
func (w *worker) runShared(sh *shared, entries uint64, start, durNs int64) {
	t, T := uint64(w.id), sh.threads
	keyOf := func(k uint64) uint64 { return k*T + t }
	s := w.s
	assign, erase := w.assign, w.erase
	mu := &sh.mu
	for {
		sh.bar.wait() // round start
		if w.id == 0 {
			sh.m = make(map[uint64]*value) // no size hint
		}
		sh.bar.wait()
		m := sh.m
		for k := uint64(0); k < entries; k++ {
			key := k*T + t
			t0 := nanotime()
			v := &value{s, int64(key)}
			mu.Lock()
			size := len(m)
			m[key] = v
			mu.Unlock()
			d := nanotime() - t0
			assign.record(uint64(d))
			if d > w.spikes.floor {
				w.noteSpike(d, size)
			}
		}
		for k := uint64(0); k < entries; k++ {
			key := k*T + t
			t0 := nanotime()
			v := &value{s, int64(key) + 1}
			mu.Lock()
			size := len(m)
			m[key] = v
			mu.Unlock()
			d := nanotime() - t0
			assign.record(uint64(d))
			if d > w.spikes.floor {
				w.noteSpike(d, size)
			}
		}
		for k := uint64(0); k < entries; k += 2 {
			key := k*T + t
			t0 := nanotime()
			mu.Lock()
			delete(m, key)
			mu.Unlock()
			d := nanotime() - t0
			erase.record(uint64(d))
		}
		w.assignments += 2 * entries
		w.erases += (entries + 1) / 2
		w.rounds++

		sh.bar.wait()                  // round end: no thread writes the map any more
		w.checkKeys(m, entries, keyOf) // concurrent reads only
		if w.id == 0 {
			if want := T * (entries - (entries+1)/2); uint64(len(m)) != want {
				checkFailed("shared map holds %d entries after round, want %d", len(m), want)
			}
			sh.rounds++
			sh.stop = nanotime()-start >= durNs
			sh.m = nil // the round's map is dropped
		}
		m = nil
		sh.bar.wait() // thread 0's decision is visible to all
		if sh.stop {
			return
		}
	}
}
