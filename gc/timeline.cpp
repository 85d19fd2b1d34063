// timeline.cpp — per-thread event buffers and the trace-event JSON writer
// (see timeline.h for the design and its invariants).
#include "timeline.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <string_view>

namespace tricolor::gc {

// A run of event slots, filled by one thread. Slots below `count` are
// published (release store by the owner, acquire load by write()); `next`
// is set once, by the owner, before the first slot of the next chunk is used.
struct Timeline::Chunk {
  Chunk(Event* slots, size_t slot_count) : events(slots), capacity(slot_count) {}
  ~Chunk() { delete[] events; }
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  Event* const events;
  const size_t capacity;
  std::atomic<size_t> count{0};
  std::atomic<Chunk*> next{nullptr};
};

// One thread's events in one Timeline. `tail` and the slots are touched by
// the owning thread only; write() follows `head` and the `next` links.
struct Timeline::ThreadBuffer {
  explicit ThreadBuffer(uint32_t thread_id) : tid(thread_id) {}
  ~ThreadBuffer() {
    Chunk* chunk = head.load(std::memory_order_relaxed);
    while (chunk != nullptr) {
      Chunk* next = chunk->next.load(std::memory_order_relaxed);
      delete chunk;
      chunk = next;
    }
  }
  ThreadBuffer(const ThreadBuffer&) = delete;
  ThreadBuffer& operator=(const ThreadBuffer&) = delete;

  const uint32_t tid;
  std::string name;  // guarded by Timeline::mutex_
  std::atomic<Chunk*> head{nullptr};
  Chunk* tail = nullptr;
  std::atomic<uint64_t> dropped{0};  // written by the owner only
};

namespace {

// The first chunk of a thread is small (many threads record a handful of
// events); later ones double up to a bound (an allocation on a recording
// thread is rare, and each chunk wastes little at the end).
constexpr size_t kFirstChunkEvents = 64;
constexpr size_t kMaxChunkEvents = 16384;

std::atomic<uint64_t> g_next_timeline_id{1};
std::atomic<uint64_t> g_next_thread_serial{1};

// A process-wide, never-reused number for the calling thread (std::thread::id
// values are reused once a thread has exited).
uint64_t this_thread_serial() {
  thread_local const uint64_t serial = g_next_thread_serial.fetch_add(1, std::memory_order_relaxed);
  return serial;
}

// The calling thread's buffer in the Timeline it last recorded into.
struct BufferCache {
  uint64_t timeline_id = 0;
  void* buffer = nullptr;
};
thread_local BufferCache t_buffer_cache;

// Buffered output to a FILE*, remembering the first error.
class JsonOut {
 public:
  explicit JsonOut(std::FILE* file) : file_(file) { text_.reserve(kFlushBytes + 1024); }

  void raw(std::string_view text) {
    text_.append(text);
    if (text_.size() >= kFlushBytes) flush();
  }
  void string(const char* text) {
    static constexpr char kHexDigits[] = "0123456789abcdef";
    text_ += '"';
    for (const char* p = text != nullptr ? text : ""; *p != '\0'; ++p) {
      const auto byte = static_cast<unsigned char>(*p);
      if (*p == '"' || *p == '\\') {
        text_ += '\\';
        text_ += *p;
      } else if (byte < 0x20 || byte == 0x7f) {
        text_ += "\\u00";
        text_ += kHexDigits[byte >> 4];
        text_ += kHexDigits[byte & 0xf];
      } else {
        text_ += *p;
      }
    }
    text_ += '"';
  }
  void integer(uint64_t value) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    text_.append(digits, result.ptr);
  }
  // Nanoseconds as microseconds with exactly three decimals: exact, and
  // independent of the C locale (no printf).
  void micros(uint64_t ns) {
    integer(ns / 1000);
    const unsigned rest = static_cast<unsigned>(ns % 1000);
    text_ += '.';
    text_ += static_cast<char>('0' + rest / 100);
    text_ += static_cast<char>('0' + rest / 10 % 10);
    text_ += static_cast<char>('0' + rest % 10);
  }
  // Shortest round-trip form; JSON has no NaN or infinity, so those are null.
  void number(double value) {
    if (!std::isfinite(value)) {
      text_ += "null";
      return;
    }
    char digits[32];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    text_.append(digits, result.ptr);
  }

  void flush() {
    if (!text_.empty() && error_ == 0 &&
        std::fwrite(text_.data(), 1, text_.size(), file_) != text_.size()) {
      error_ = errno != 0 ? errno : EIO;
    }
    text_.clear();
  }
  int error() const { return error_; }

 private:
  static constexpr size_t kFlushBytes = size_t{1} << 16;
  std::FILE* file_;
  std::string text_;
  int error_ = 0;
};

}  // namespace

Timeline::Timeline() = default;

Timeline::Timeline(std::string path, TimelineConfig config)
    : enabled_(!path.empty()), path_(std::move(path)), clock_(config.clock) {
  if (!enabled_) return;
  id_ = g_next_timeline_id.fetch_add(1, std::memory_order_relaxed);
  origin_ns_ = config.origin ? static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                         config.origin->time_since_epoch())
                                                         .count())
                             : read_clock_ns();
  max_events_ = config.max_events;
  budget_.store(config.max_events, std::memory_order_relaxed);
}

Timeline::~Timeline() {
  if (enabled_) write();
}

// ---------------------------------------------------------------- recording

Timeline::ThreadBuffer* Timeline::this_thread_buffer() noexcept {
  BufferCache& cache = t_buffer_cache;
  if (cache.timeline_id == id_) return static_cast<ThreadBuffer*>(cache.buffer);
  ThreadBuffer* buffer = nullptr;
  try {
    buffer = register_this_thread();
  } catch (const std::bad_alloc&) {
    return nullptr;  // not cached: the next event tries again
  }
  cache.timeline_id = id_;
  cache.buffer = buffer;
  return buffer;
}

Timeline::ThreadBuffer* Timeline::register_this_thread() {
  const uint64_t serial = this_thread_serial();
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = by_thread_.find(serial);
  if (found != by_thread_.end()) return found->second;
  buffers_.reserve(buffers_.size() + 1);
  auto buffer = std::make_unique<ThreadBuffer>(next_tid_);
  ThreadBuffer* raw = buffer.get();
  by_thread_.emplace(serial, raw);
  buffers_.push_back(std::move(buffer));
  ++next_tid_;
  return raw;
}

// Takes up to twice the previous chunk's slots from the budget; null when
// the budget is spent (or memory is short: the slots go back).
Timeline::Chunk* Timeline::take_chunk(size_t previous_capacity) noexcept {
  const size_t wanted =
      previous_capacity == 0 ? kFirstChunkEvents : std::min(previous_capacity * 2, kMaxChunkEvents);
  size_t available = budget_.load(std::memory_order_relaxed);
  size_t taken = 0;
  do {
    if (available == 0) return nullptr;
    taken = std::min(wanted, available);
  } while (!budget_.compare_exchange_weak(available, available - taken, std::memory_order_relaxed));

  Event* slots = new (std::nothrow) Event[taken];
  Chunk* chunk = slots != nullptr ? new (std::nothrow) Chunk(slots, taken) : nullptr;
  if (chunk == nullptr) {
    delete[] slots;
    budget_.fetch_add(taken, std::memory_order_relaxed);
    return nullptr;
  }
  return chunk;
}

// The slot for the calling thread's next event, or null (then counted as
// dropped). Publish it with publish().
Timeline::Event* Timeline::reserve_slot(ThreadBuffer*& buffer) noexcept {
  buffer = this_thread_buffer();
  if (buffer == nullptr) {
    lost_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  Chunk* tail = buffer->tail;
  if (tail != nullptr) {
    const size_t used = tail->count.load(std::memory_order_relaxed);
    if (used < tail->capacity) return &tail->events[used];
  }
  Chunk* fresh = take_chunk(tail != nullptr ? tail->capacity : 0);
  if (fresh == nullptr) {
    buffer->dropped.store(buffer->dropped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return nullptr;
  }
  if (tail != nullptr) {
    tail->next.store(fresh, std::memory_order_release);
  } else {
    buffer->head.store(fresh, std::memory_order_release);
  }
  buffer->tail = fresh;
  return &fresh->events[0];
}

void Timeline::publish(ThreadBuffer& buffer) noexcept {
  Chunk* tail = buffer.tail;
  tail->count.store(tail->count.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void Timeline::record(Kind kind, const char* name, const char* category, uint64_t ts_ns,
                      uint64_t dur_ns) noexcept {
  ThreadBuffer* buffer = nullptr;
  Event* event = reserve_slot(buffer);
  if (event == nullptr) return;
  event->name = name;
  event->category = category;
  event->ts_ns = ts_ns;
  event->dur_ns = dur_ns;
  event->kind = kind;
  publish(*buffer);
}

void Timeline::record_counter(const char* name, uint64_t ts_ns, double value) noexcept {
  ThreadBuffer* buffer = nullptr;
  Event* event = reserve_slot(buffer);
  if (event == nullptr) return;
  event->name = name;
  event->category = nullptr;
  event->ts_ns = ts_ns;
  event->value = value;
  event->kind = Kind::kCounter;
  publish(*buffer);
}

void Timeline::name_thread(const char* name) noexcept {
  if (!enabled_) return;
  ThreadBuffer* buffer = this_thread_buffer();
  if (buffer == nullptr) return;
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    buffer->name = name != nullptr ? name : "";
  } catch (const std::bad_alloc&) {
    // The thread keeps its previous name (or none).
  }
}

size_t Timeline::recorded_events() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t total = 0;
  for (const auto& buffer : buffers_) {
    for (Chunk* chunk = buffer->head.load(std::memory_order_acquire); chunk != nullptr;
         chunk = chunk->next.load(std::memory_order_acquire)) {
      total += chunk->count.load(std::memory_order_acquire);
    }
  }
  return total;
}

uint64_t Timeline::dropped_events() const {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t total = lost_.load(std::memory_order_relaxed);
  for (const auto& buffer : buffers_) total += buffer->dropped.load(std::memory_order_relaxed);
  return total;
}

// ---------------------------------------------------------------- writing

void Timeline::report_failure(const std::string& what) noexcept {
  if (failure_reported_.exchange(true, std::memory_order_relaxed)) return;
  std::fprintf(stderr, "tricolor: TRICOLOR_TRACE: cannot write the GC timeline to \"%s\": %s\n",
               path_.c_str(), what.c_str());
  std::fflush(stderr);
}

bool Timeline::write() noexcept {
  if (!enabled_) return false;
  try {
    std::lock_guard<std::mutex> lock(write_mutex_);
    return write_or_throw();
  } catch (const std::exception& error) {
    report_failure(error.what());
  } catch (...) {
    report_failure("unknown error");
  }
  return false;
}

bool Timeline::write_or_throw() {
  struct ThreadSnapshot {
    uint32_t tid;
    std::string name;
    const ThreadBuffer* buffer;
  };
  std::vector<ThreadSnapshot> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    threads.reserve(buffers_.size());
    for (const auto& buffer : buffers_) threads.push_back({buffer->tid, buffer->name, buffer.get()});
  }

  errno = 0;
  std::FILE* file = std::fopen(path_.c_str(), "w");
  if (file == nullptr) {
    report_failure(std::strerror(errno != 0 ? errno : EIO));
    return false;
  }
  JsonOut out(file);
  out.raw("{\"traceEvents\":[\n");
  out.raw("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"tricolor\"}}");
  for (const ThreadSnapshot& thread : threads) {
    if (thread.name.empty()) continue;
    out.raw(",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":");
    out.integer(thread.tid);
    out.raw(",\"args\":{\"name\":");
    out.string(thread.name.c_str());
    out.raw("}}");
  }

  uint64_t dropped = lost_.load(std::memory_order_relaxed);
  std::vector<Event> events;
  for (const ThreadSnapshot& thread : threads) {
    dropped += thread.buffer->dropped.load(std::memory_order_relaxed);
    // A snapshot of the published events, sorted so that a viewer sees
    // enclosing spans before the spans they enclose (a Scope records its
    // span when it ends, so inner spans are recorded first).
    events.clear();
    for (const Chunk* chunk = thread.buffer->head.load(std::memory_order_acquire); chunk != nullptr;
         chunk = chunk->next.load(std::memory_order_acquire)) {
      const size_t count = chunk->count.load(std::memory_order_acquire);
      events.insert(events.end(), chunk->events, chunk->events + count);
    }
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      if (a.ts_ns != b.ts_ns) return a.ts_ns < b.ts_ns;
      const uint64_t a_dur = a.kind == Kind::kSpan ? a.dur_ns : 0;
      const uint64_t b_dur = b.kind == Kind::kSpan ? b.dur_ns : 0;
      return a_dur > b_dur;
    });
    for (const Event& event : events) {
      out.raw(",\n{\"name\":");
      out.string(event.name);
      switch (event.kind) {
        case Kind::kSpan:
          out.raw(",\"cat\":");
          out.string(event.category);
          out.raw(",\"ph\":\"X\",\"ts\":");
          out.micros(event.ts_ns);
          out.raw(",\"dur\":");
          out.micros(event.dur_ns);
          break;
        case Kind::kInstant:
          out.raw(",\"cat\":");
          out.string(event.category);
          out.raw(",\"ph\":\"i\",\"s\":\"t\",\"ts\":");
          out.micros(event.ts_ns);
          break;
        case Kind::kCounter:
          out.raw(",\"ph\":\"C\",\"ts\":");
          out.micros(event.ts_ns);
          out.raw(",\"args\":{\"value\":");
          out.number(event.value);
          out.raw("}");
          break;
      }
      out.raw(",\"pid\":1,\"tid\":");
      out.integer(thread.tid);
      out.raw("}");
    }
  }

  out.raw(",\n{\"name\":\"tricolor_dropped_events\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"dropped\":");
  out.integer(dropped);
  out.raw(",\"max_events\":");
  out.integer(max_events_);
  out.raw("}}\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"tricolor_dropped_events\":");
  out.integer(dropped);
  out.raw(",\"tricolor_max_events\":");
  out.integer(max_events_);
  out.raw("}}\n");
  out.flush();

  int error = out.error();
  if (std::ferror(file) != 0 && error == 0) error = errno != 0 ? errno : EIO;
  errno = 0;
  if (std::fclose(file) != 0 && error == 0) error = errno != 0 ? errno : EIO;
  if (error != 0) {
    report_failure(std::strerror(error));
    return false;
  }
  return true;
}

}  // namespace tricolor::gc
