// map_workload.h — what the map benchmarks (map_throughput, map_growth,
// iter_safepoint) share with each other and with their Go peer
// (bench/peers/go/mapbench/main.go, whose workload is the contract):
//
//   - keys: key i (i = 0..N-1) is mix(i), splitmix64's finalizer *with* its
//     golden-ratio increment (exactly the Go peer's mix); its value is i; the
//     missing keys of lookup_miss are mix(i + N). mix is a bijection, so the
//     N keys are distinct and no missing key is present. Keys are computed
//     inline, never read from a precomputed array;
//   - the GC background of map_growth (and of map_throughput's tricolor_gc):
//     a live, pointer-rich binary tree of 32-byte nodes (two managed
//     pointers, two words: the Go peer's `node`), and a registered mutator
//     thread that keeps building throwaway 1000-node trees of the same nodes;
//   - running the Go peer binary and reading its flat JSON object of metrics;
//   - small helpers: flags, nearest-rank percentiles, windows over the
//     collector's histograms (a statistic of one phase of a run), the clock.
//
// Header-only: each benchmark is one translation unit plus bench_support.
#pragma once

#include "harness.h"
#include "histogram_window.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <tricolor/tricolor.h>
#include <vector>

#include "record.h"

namespace map_bench {

// ------------------------------------------------------------------ keys ----

// splitmix64's finalizer of i (with the increment): the Go peer's mix.
inline uint64_t mix(uint64_t i) {
  uint64_t z = i + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
inline uint64_t key_of(uint64_t i) { return mix(i); }
inline uint64_t missing_key_of(uint64_t i, uint64_t n) { return mix(i + n); }

// ----------------------------------------------------------------- clock ----

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Median cost of one now_ns() pair as the latency loops use it (t = now;
// ...; now - t with nothing between), over `samples` tries.
inline int64_t timer_overhead_ns(size_t samples = 100000) {
  std::vector<int64_t> d(samples);
  for (auto& x : d) {
    const int64_t t = now_ns();
    x = now_ns() - t;
  }
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(samples / 2), d.end());
  return d[samples / 2];
}

// Minor page faults taken by the calling thread so far.
inline uint64_t thread_minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return static_cast<uint64_t>(usage.ru_minflt);
}

// The calling thread's page faults and context switches so far: voluntary
// (it blocked: a lock, a sleep) and involuntary (preempted, or a sched_yield
// that let another thread run).
struct ThreadUsage {
  uint64_t faults = 0;
  uint64_t voluntary = 0;
  uint64_t involuntary = 0;
};
inline ThreadUsage thread_usage() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return {static_cast<uint64_t>(usage.ru_minflt) + static_cast<uint64_t>(usage.ru_majflt),
          static_cast<uint64_t>(usage.ru_nvcsw), static_cast<uint64_t>(usage.ru_nivcsw)};
}

// ------------------------------------------------------------ statistics ----

// Nearest-rank percentile (0 < p <= 1) of an ascending vector, as the Go peer computes it.
template <class T>
double percentile_sorted(const std::vector<T>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]);
}

using Window = tricolor_bench::Window;  // bench/histogram_window.h

// ----------------------------------------------------------------- flags ----

inline bool parse_u64(std::string_view text, uint64_t lo, uint64_t hi, uint64_t& out) {
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || *end != '\0' || errno != 0 || v < lo || v > hi) return false;
  out = v;
  return true;
}

inline bool parse_seconds(std::string_view text, double& out) {
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v > 0 && v < 1e6)) return false;
  out = v;
  return true;
}

// "1000,10000,100000" → sizes; false on a malformed or empty list.
inline bool parse_sizes(std::string_view text, std::vector<uint64_t>& out) {
  std::vector<uint64_t> sizes;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    uint64_t n = 0;
    if (!parse_u64(text.substr(start, comma - start), 1, uint64_t{1} << 32, n)) return false;
    sizes.push_back(n);
    start = comma + 1;
  }
  if (sizes.empty()) return false;
  out = std::move(sizes);
  return true;
}

inline std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) out.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// Matches "--name VALUE" (consumes argv[i + 1]) or "--name=VALUE" at argv[i].
inline bool take_flag(std::string_view name, int argc, char** argv, int& i, std::string& value) {
  const std::string_view arg = argv[i];
  if (arg == name && i + 1 < argc) {
    value = argv[++i];
    return true;
  }
  if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=') {
    value = std::string(arg.substr(name.size() + 1));
    return true;
  }
  return false;
}

// ------------------------------------------------------------- the heap ----

// The Go peer's `node`: two pointers, two words (32 bytes of payload; a
// 32-byte slot here as in Go: a typed span, no header, gc/typed_classes.h).
struct TreeNode {
  tricolor::Member<TreeNode> left;
  tricolor::Member<TreeNode> right;
  uint64_t a = 0;
  uint64_t b = 0;
  explicit TreeNode(uint64_t n) : a(n) {}
  void trace(tricolor::Visitor& v) const {
    v.visit(left);
    v.visit(right);
  }
};

static_assert(std::is_trivially_destructible_v<TreeNode>);  // so kSlotBytesOf applies
inline size_t tree_node_slot_bytes() { return tricolor::gc::kSlotBytesOf<TreeNode>; }

// Fills `parent` (already reachable from a root) with a balanced tree of
// `n` nodes below it, top-down, so that every node is reachable from the
// moment it is made (a raw pointer held across make<> would not be a root).
inline void grow_tree(tricolor::Mutator& m, TreeNode* parent, uint64_t n) {
  if (n == 0) return;
  const uint64_t rest = n - 1;
  const uint64_t left = rest / 2;
  const uint64_t right = rest - left;
  if (left != 0) {
    parent->left = tricolor::make<TreeNode>(m, left);
    grow_tree(m, parent->left.get(), left);
  }
  if (right != 0) {
    parent->right = tricolor::make<TreeNode>(m, right);
    grow_tree(m, parent->right.get(), right);
  }
}

// A balanced tree of `n` nodes under `root` (n >= 1).
template <class Root>
void build_tree(tricolor::Mutator& m, Root& root, uint64_t n) {
  root = tricolor::make<TreeNode>(m, n);
  grow_tree(m, root.get(), n);
}

// The live heap: about `mib` MiB of TreeNode slots (so that the collector's
// live heap, which the pacer sizes its goal from, is the Go peer's in bytes:
// Go builds mib MiB of 32-byte nodes, here as many in 32-byte slots).
struct LiveTree {
  tricolor::Persistent<TreeNode> root;
  uint64_t nodes = 0;
  double bytes = 0;
  double build_s = 0;

  void build(tricolor::Mutator& m, uint64_t mib) {
    if (mib == 0) return;
    const int64_t start = now_ns();
    nodes = std::max<uint64_t>(1, (mib << 20) / tree_node_slot_bytes());
    bytes = static_cast<double>(nodes * tree_node_slot_bytes());
    build_tree(m, root, nodes);
    build_s = static_cast<double>(now_ns() - start) * 1e-9;
  }
};

// A mutator thread that keeps building throwaway 1000-node trees (the Go
// peer's garbage maker), polling its safepoint and yielding between trees.
// With `bytes_per_s` > 0 it is paced to about that rate, sleeping (inside a
// BlockingRegion: the collector does not wait for it) when ahead.
class GarbageChurn {
 public:
  GarbageChurn(tricolor::Runtime& runtime, double bytes_per_s = 0) : runtime_(runtime), bytes_per_s_(bytes_per_s) {}
  GarbageChurn(const GarbageChurn&) = delete;
  GarbageChurn& operator=(const GarbageChurn&) = delete;
  ~GarbageChurn() { stop(nullptr); }

  void start() {
    stop_.store(false, std::memory_order_relaxed);
    thread_ = std::thread([this] { run(); });
  }
  // Stops the thread; returns the trees it made. `caller`: the calling
  // thread's mutator, if it has one: it waits in a BlockingRegion, or a
  // handshake would wait for it while the churn thread (registering, or at
  // its safepoint) waits for the handshake — a deadlock.
  uint64_t stop(tricolor::Mutator* caller) {
    if (thread_.joinable()) {
      stop_.store(true, std::memory_order_relaxed);
      std::optional<tricolor::BlockingRegion> blocked;
      if (caller != nullptr) blocked.emplace(*caller);
      thread_.join();
    }
    return trees_;
  }
  static constexpr uint64_t kTreeNodes = 1000;
  double tree_bytes() const { return static_cast<double>(kTreeNodes * tree_node_slot_bytes()); }

 private:
  void run() {
    tricolor::MutatorScope m(runtime_);
    const int64_t start = now_ns();
    uint64_t made = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
      {
        tricolor::Local<TreeNode> root(m);
        build_tree(m, root, kTreeNodes);
      }
      ++made;
      m.safepoint();
      if (bytes_per_s_ > 0) {
        const double due_s = static_cast<double>(made) * tree_bytes() / bytes_per_s_;
        const int64_t due_ns = start + static_cast<int64_t>(due_s * 1e9);
        const int64_t ahead = due_ns - now_ns();
        if (ahead > 50000) {
          tricolor::BlockingRegion blocked(m);
          std::this_thread::sleep_for(std::chrono::nanoseconds(ahead));
        }
      } else {
        std::this_thread::yield();
      }
    }
    trees_ = made;
  }

  tricolor::Runtime& runtime_;
  double bytes_per_s_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  uint64_t trees_ = 0;
};

// ----------------------------------------------------------- the Go peer ----

// The Go peer binary: $MAPBENCH_GO if set, else `mapbench` beside this
// executable (bench/peers/go/build.sh mapbench builds it there).
inline std::string default_go_peer() { return tricolor_bench::beside_this_program("mapbench", "MAPBENCH_GO"); }

// Parses a flat JSON object of "name": number pairs (what the Go peer writes).
inline bool parse_flat_json(const std::string& text, tricolor_bench::Metrics& out) {
  size_t i = text.find('{');
  if (i == std::string::npos) return false;
  ++i;
  for (;;) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i < text.size() && text[i] == '}') return true;
    if (i >= text.size() || text[i] != '"') return false;
    const size_t close = text.find('"', i + 1);
    if (close == std::string::npos) return false;
    const std::string name = text.substr(i + 1, close - i - 1);
    i = text.find(':', close);
    if (i == std::string::npos) return false;
    ++i;
    char* end = nullptr;
    const double value = std::strtod(text.c_str() + i, &end);
    if (end == text.c_str() + i) return false;
    tricolor_bench::set_metric(out, name, value);
    i = static_cast<size_t>(end - text.c_str());
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i < text.size() && text[i] == ',') ++i;
  }
}

// Runs the Go peer with `args` plus "-out TMPFILE", its output passing
// through to ours, and reads its metrics. Returns false with `why` set if the
// binary is missing (a skip, not a failure: `missing` is then true) or failed.
inline bool run_go_peer(const std::string& binary, const std::vector<std::string>& args,
                        tricolor_bench::Metrics& metrics, std::string& why, bool& missing) {
  missing = false;
  if (access(binary.c_str(), X_OK) != 0) {
    missing = true;
    why = "Go peer " + binary + " not found (bench/peers/go/build.sh mapbench builds it; needs go)";
    return false;
  }
  char out_path[] = "/tmp/mapbench-XXXXXX";
  const int fd = mkstemp(out_path);
  if (fd < 0) {
    why = std::string("mkstemp: ") + std::strerror(errno);
    return false;
  }
  close(fd);
  std::vector<std::string> all = {binary};
  all.insert(all.end(), args.begin(), args.end());
  all.emplace_back("-out");
  all.emplace_back(out_path);
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    why = std::string("fork: ") + std::strerror(errno);
    unlink(out_path);
    return false;
  }
  if (pid == 0) {
    execv(binary.c_str(), argv.data());
    std::perror("execv");
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) break;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    why = "Go peer failed (status " + std::to_string(status) + ")";
    unlink(out_path);
    return false;
  }
  std::ifstream in(out_path);
  std::stringstream text;
  text << in.rdbuf();
  unlink(out_path);
  if (!parse_flat_json(text.str(), metrics)) {
    why = "cannot parse the Go peer's JSON output";
    return false;
  }
  return true;
}

}  // namespace map_bench
