// timeline.h — the recorder behind TRICOLOR_TRACE=path.json: a Chrome
// trace-event JSON timeline (Perfetto, chrome://tracing) of GC phases,
// handshakes, assist slices and deferred-work items.
//
// Owns: Timeline (events recorded by any thread, written once at the end as
// {"traceEvents":[...],"displayTimeUnit":"ns",...}) and Timeline::Scope (an
// RAII span). Names and categories are stored as pointers: pass string
// literals (or strings that outlive the Timeline).
//
// Recording: per-thread buffers, wait-free after a thread's first event.
// Each thread gets, on its first event for a given Timeline, a ThreadBuffer
// registered under the Timeline's mutex (that is also where its small
// sequential tid, 1, 2, ..., is assigned); a thread_local cache keyed by the
// Timeline's never-reused instance id finds it afterwards without a lock.
// A buffer is a list of chunks owned by the Timeline (so a thread may exit
// before the trace is written); the owning thread fills a slot and publishes
// it with a release store of the chunk's count, and write() reads every
// chunk up to its acquired count — so write() may run while threads still
// record. Why not one mutex-protected vector: events per cycle are few, but
// they come from many threads at once (every mutator answers a handshake in
// the same few microseconds, assists run on every allocating thread), and
// those are the moments the trace is meant to show undisturbed. Measured
// (-O2, a 2-CPU VM under load, CPU time per event, after warm-up): recording
// here costs ~5-6 ns per event at 1, 2 and 8 threads alike; a shared
// mutex-protected vector costs ~25 ns uncontended and 140-260 ns per event
// with 2-8 threads recording. A Scope adds its two clock reads (~30 ns each).
//
// Bounded memory: at most max_events events are kept in total (default
// 1'000'000, 40 bytes each); chunks reserve their slots from that budget,
// so the cap is never exceeded (a thread's last chunk may keep a few unused
// slots, so another thread may start dropping slightly before the total
// reaches the cap). Dropped events are counted, per thread, and the total is
// written as metadata ("otherData" and a "tricolor_dropped_events" "M" event).
//
// Disabled (empty path): enabled() is one load of a const bool; recording
// calls return at once, and Scope reads no clock.
//
// Failure to write (unwritable path, full disk) is reported once to stderr,
// naming TRICOLOR_TRACE and the path; nothing is thrown, by write() or by
// the destructor.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tricolor::gc {

// Knobs of a Timeline; the defaults are what TRICOLOR_TRACE uses.
struct TimelineConfig {
  static constexpr size_t kDefaultMaxEvents = 1'000'000;
  // Events kept at most (every kind, every thread); later ones are dropped
  // and counted.
  size_t max_events = kDefaultMaxEvents;
  // "ts" 0. Unset: the Timeline's construction. Pass the collector's own
  // origin to make its timestamps and the Timeline's the same numbers.
  std::optional<std::chrono::steady_clock::time_point> origin;
  // Test hook: the clock, in steady_clock nanoseconds since its epoch.
  // Null: std::chrono::steady_clock.
  uint64_t (*clock)() = nullptr;
};

class Timeline {
 public:
  // Disabled: records nothing, reads no clock, writes nothing.
  Timeline();
  // Enabled when `path` is not empty (TRICOLOR_TRACE: empty means off).
  explicit Timeline(std::string path, TimelineConfig config = {});
  Timeline(const Timeline&) = delete;
  Timeline& operator=(const Timeline&) = delete;
  // Writes the trace (see write()) if enabled; never throws. No thread may
  // record into this Timeline any more.
  ~Timeline();

  bool enabled() const { return enabled_; }
  const std::string& path() const { return path_; }

  // Nanoseconds since the origin (see TimelineConfig); 0 when disabled (and
  // then no clock is read).
  uint64_t now_ns() const {
    if (!enabled_) return 0;
    const uint64_t now = read_clock_ns();
    return now > origin_ns_ ? now - origin_ns_ : 0;
  }

  // A complete event ("ph":"X") on the calling thread; end < start is
  // recorded with a zero duration.
  void span(const char* name, const char* category, uint64_t start_ns, uint64_t end_ns) noexcept {
    if (enabled_) record(Kind::kSpan, name, category, start_ns, end_ns >= start_ns ? end_ns - start_ns : 0);
  }
  // A counter sample ("ph":"C", args {"value": value}), e.g. the live heap.
  void counter(const char* name, uint64_t ts_ns, double value) noexcept {
    if (enabled_) record_counter(name, ts_ns, value);
  }
  // A thread-scoped instant event ("ph":"i", "s":"t").
  void instant(const char* name, const char* category, uint64_t ts_ns) noexcept {
    if (enabled_) record(Kind::kInstant, name, category, ts_ns, 0);
  }
  // Names the calling thread ("ph":"M" "thread_name"); the text is copied.
  // Calling it again renames the thread.
  void name_thread(const char* name) noexcept;

  // A span from construction to destruction on the calling thread; does
  // nothing, not even read the clock, when the Timeline is disabled.
  class Scope {
   public:
    Scope(Timeline& timeline, const char* name, const char* category)
        : timeline_(timeline.enabled() ? &timeline : nullptr),
          name_(name),
          category_(category),
          start_ns_(timeline_ != nullptr ? timeline.now_ns() : 0) {}
    ~Scope() {
      if (timeline_ != nullptr) timeline_->span(name_, category_, start_ns_, timeline_->now_ns());
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Timeline* timeline_;
    const char* name_;
    const char* category_;
    uint64_t start_ns_;
  };

  // Writes everything recorded so far to the path, replacing the file; may
  // run while threads record (their newest events may or may not be in).
  // Returns false if disabled or the file could not be written; the first
  // failure is reported to stderr. Never throws.
  bool write() noexcept;

  // Events kept and dropped so far (every thread).
  size_t recorded_events() const;
  uint64_t dropped_events() const;

 private:
  enum class Kind : uint8_t { kSpan, kCounter, kInstant };
  struct Event {
    const char* name;
    const char* category;
    uint64_t ts_ns;
    union {
      uint64_t dur_ns;  // spans
      double value;     // counters
    };
    Kind kind;
  };
  struct Chunk;
  struct ThreadBuffer;

  uint64_t read_clock_ns() const {
    if (clock_ != nullptr) return clock_();
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }
  void record(Kind kind, const char* name, const char* category, uint64_t ts_ns, uint64_t dur_ns) noexcept;
  void record_counter(const char* name, uint64_t ts_ns, double value) noexcept;
  Event* reserve_slot(ThreadBuffer*& buffer) noexcept;
  void publish(ThreadBuffer& buffer) noexcept;
  ThreadBuffer* this_thread_buffer() noexcept;
  ThreadBuffer* register_this_thread();
  Chunk* take_chunk(size_t previous_capacity) noexcept;
  void report_failure(const std::string& what) noexcept;
  bool write_or_throw();

  const bool enabled_ = false;
  std::string path_;
  uint64_t id_ = 0;  // never reused: keys the thread_local buffer cache
  uint64_t origin_ns_ = 0;
  uint64_t (*clock_)() = nullptr;
  size_t max_events_ = 0;

  std::atomic<size_t> budget_{0};          // event slots not yet given to a chunk
  std::atomic<uint64_t> lost_{0};          // dropped for want of memory
  std::atomic<bool> failure_reported_{false};

  mutable std::mutex mutex_;  // guards buffers_, by_thread_, thread names, next_tid_
  std::vector<std::unique_ptr<ThreadBuffer>> buffers_;
  std::unordered_map<uint64_t, ThreadBuffer*> by_thread_;  // thread serial -> buffer
  uint32_t next_tid_ = 1;
  std::mutex write_mutex_;  // one write() at a time
};

}  // namespace tricolor::gc
