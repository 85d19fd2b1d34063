// map_model.h — a model-based driver for the managed map: operation
// sequences (from a seeded generator, or decoded from a fuzzer's bytes) run
// against a tricolor::Map and, side by side, against a std::unordered_map.
//
// Used by map_model_test.cpp (doctest, seeded and replayable) and by
// map_fuzz.cpp (libFuzzer). Nothing here depends on doctest: the first
// mismatch stops the driver and leaves a failure message (what differed, the
// operation number, the map's state and the last operations) for the caller
// to report.
//
// Keys are drawn as indices from a "universe" [0, n); each kind turns an
// index into a real key (an integer, or a managed string made for the
// operation) and back, so the model is always keyed by index. Every write
// stores a value never used before, so a stale value is always noticed.
// Kinds (each a traits struct below):
//   IntKind   Map<uint64_t, uint64_t>
//   NodeKind  Map<uint64_t, test::Node*>: each value a Node whose payload and
//             left child (payload ~v) are checked on every read: values (and
//             what they reach) must survive collections
//   StrKind   Map<Str*, uint64_t, StrHash, StrEq>: managed string keys with
//             inline characters; lookups and erasures alternate between a
//             string_view probe (heterogeneous) and a fresh Str* with equal
//             contents
//   CollidingKind  Map<uint64_t, uint64_t, CollidingHash>: 8 bucket chains
//             and 16 tophash values for all keys (long overflow chains)
// Operations: insert_or_assign (new key or overwrite), erase (present key or
// any), find / get / contains, clear, reserve, Runtime::collect(), a full
// iteration checked against the model, and an iteration with random writes
// between its steps, checked against Go's rules (map.h, "Invalidation"):
//  - every key present during the whole loop is visited exactly once;
//  - a visited key is present at the visit, with its current value;
//  - no entry is visited twice (a key erased and inserted again during the
//    loop is a new entry: it may be visited again);
//  - clear() ends the loop.
// Replay: the same seed (or input) gives the same operations; the map's own
// hash seed and the collector's timing are not replayed (they are random per
// map and per run), so a failure that depends on them may need a few runs.
#pragma once

#include <tricolor/tricolor.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "../gc/test_types.h"

namespace map_model {

inline uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::strtoull(text, nullptr, 10);
}

// ---------------------------------------------------------------- managed string keys

// A managed string: its characters follow the object (make<Str>(m,
// AdditionalBytes{n}, text)); a checksum over them shows a freed or
// overwritten key.
struct Str {
  static constexpr bool kHasNoPointers = true;
  uint32_t length = 0;
  uint32_t checksum = 0;

  explicit Str(std::string_view text) : length(static_cast<uint32_t>(text.size())), checksum(sum(text)) {
    if (!text.empty()) std::memcpy(chars(), text.data(), text.size());
  }
  char* chars() { return reinterpret_cast<char*>(this + 1); }
  const char* chars() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view view() const { return {chars(), length}; }
  bool intact() const { return checksum == sum(view()); }

  static uint32_t sum(std::string_view text) {
    uint32_t h = 2166136261u;  // FNV-1a
    for (const char c : text) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
    return h;
  }
};

inline Str* make_str(tricolor::Mutator& m, std::string_view text) {
  return tricolor::make<Str>(m, tricolor::AdditionalBytes{text.size()}, text);
}

// Hashes the contents; accepts string_view probes (heterogeneous lookup).
struct StrHash {
  uint64_t operator()(const Str* s, uint64_t seed) const { return tricolor::hash_bytes(s->chars(), s->length, seed); }
  uint64_t operator()(std::string_view s, uint64_t seed) const { return tricolor::hash_bytes(s.data(), s.size(), seed); }
};
struct StrEq {
  bool operator()(const Str* a, const Str* b) const { return a->view() == b->view(); }
  bool operator()(const Str* a, std::string_view b) const { return a->view() == b; }
  bool operator()(std::string_view a, const Str* b) const { return a == b->view(); }
};

// ---------------------------------------------------------------- kinds

inline constexpr uint64_t kKeyMul = 0x9E3779B97F4A7C15ull;  // odd: a bijection on uint64_t
inline constexpr uint64_t inverse_of(uint64_t odd) {
  uint64_t x = odd;  // Newton's iteration: each step doubles the correct low bits
  for (int i = 0; i < 6; ++i) x *= 2 - odd * x;
  return x;
}
inline constexpr uint64_t kKeyInv = inverse_of(kKeyMul);
static_assert(kKeyMul * kKeyInv == 1);

// Integer keys (index * kKeyMul: distinct, spread, invertible), shared by
// the kinds below that differ only in their values.
struct IntKeys {
  using K = uint64_t;
  static constexpr uint32_t kProbeVariants = 1;

  template <class F>
  static decltype(auto) with_key(tricolor::Mutator&, uint64_t index, F&& f) { return f(K{index * kKeyMul}); }
  template <class F>
  static decltype(auto) with_probe(tricolor::Mutator&, uint64_t index, uint32_t, F&& f) { return f(K{index * kKeyMul}); }
  static std::optional<uint64_t> index_of(K key) { return key * kKeyInv; }
};

struct IntKind : IntKeys {
  using V = uint64_t;
  using MapT = tricolor::Map<K, V>;
  static constexpr const char* kName = "uint64 -> uint64";
  static constexpr bool kNullValues = false;

  template <class F>
  static decltype(auto) with_value(tricolor::Mutator&, uint64_t value, F&& f) { return f(V{value}); }
  static bool value_ok(V value, uint64_t model) { return value == model; }
  static std::string show(V value) { return std::to_string(value); }
  static uint64_t model_value_of(V value) { return value; }
};

// A legal but poor hash: every key lands in one of 8 bucket chains and its
// tophash is one of 16, so chains are long, overflow buckets pile up (same-
// size regrows) and lookups compare many keys with equal tophash.
struct CollidingHash {
  uint64_t operator()(uint64_t key, uint64_t seed) const {
    constexpr uint64_t kLow = (uint64_t{1} << 56) - 1;
    return (tricolor::hash_word(key % 8, seed) & kLow) | (tricolor::hash_word(key % 16, ~seed) & ~kLow);
  }
};

struct CollidingKind : IntKind {
  using MapT = tricolor::Map<uint64_t, uint64_t, CollidingHash>;
  static constexpr const char* kName = "uint64 -> uint64, colliding hash";
};

// Values are Nodes (model value = payload; 0 = a null value).
struct NodeKind : IntKeys {
  using V = test::Node*;
  using MapT = tricolor::Map<K, V>;
  static constexpr const char* kName = "uint64 -> Node*";
  static constexpr bool kNullValues = true;

  template <class F>
  static decltype(auto) with_value(tricolor::Mutator& m, uint64_t value, F&& f) {
    if (value == 0) return f(V{nullptr});
    tricolor::Local<test::Node> child(m, tricolor::make<test::Node>(m, static_cast<int64_t>(~value)));
    tricolor::Local<test::Node> node(m, tricolor::make<test::Node>(m, static_cast<int64_t>(value)));
    node->left = child.get();
    return f(V{node.get()});
  }
  static bool value_ok(V value, uint64_t model) {
    if (model == 0) return value == nullptr;
    if (value == nullptr || value->payload != static_cast<int64_t>(model) || value->right.get() != nullptr) return false;
    const test::Node* child = value->left.get();
    return child != nullptr && child->payload == static_cast<int64_t>(~model) && child->left.get() == nullptr &&
           child->right.get() == nullptr;
  }
  static uint64_t model_value_of(V value) { return value == nullptr ? 0 : static_cast<uint64_t>(value->payload); }
  static std::string show(V value) {
    if (value == nullptr) return "null";
    const test::Node* child = value->left.get();
    return "Node{payload " + std::to_string(static_cast<uint64_t>(value->payload)) + ", left " +
           (child ? "Node{payload " + std::to_string(static_cast<uint64_t>(child->payload)) + "}" : "null") + "}";
  }
};

// Keys are managed strings: "" for index 0, else the decimal index followed
// by a run of one letter (0..36 long), so lengths vary from 0 to ~45.
struct StrKind {
  using K = Str*;
  using V = uint64_t;
  using MapT = tricolor::Map<Str*, uint64_t, StrHash, StrEq>;
  static constexpr const char* kName = "Str* -> uint64";
  static constexpr bool kNullValues = false;
  static constexpr uint32_t kProbeVariants = 2;  // 0: string_view, 1: a fresh Str*

  static std::string text_of(uint64_t index) {
    if (index == 0) return {};
    return std::to_string(index) + std::string((index * 7) % 37, static_cast<char>('a' + index % 26));
  }
  template <class F>
  static decltype(auto) with_key(tricolor::Mutator& m, uint64_t index, F&& f) {
    const std::string text = text_of(index);
    tricolor::Local<Str> key(m, make_str(m, text));
    return f(K{key.get()});
  }
  template <class F>
  static decltype(auto) with_probe(tricolor::Mutator& m, uint64_t index, uint32_t variant, F&& f) {
    if (variant == 0) {
      const std::string text = text_of(index);
      return f(std::string_view(text));
    }
    return with_key(m, index, std::forward<F>(f));
  }
  template <class F>
  static decltype(auto) with_value(tricolor::Mutator&, uint64_t value, F&& f) { return f(V{value}); }
  static std::optional<uint64_t> index_of(const Str* key) {
    if (key == nullptr || !key->intact()) return std::nullopt;
    const std::string_view text = key->view();
    if (text.empty()) return 0;
    uint64_t index = 0;
    size_t i = 0;
    for (; i < text.size() && i < 19 && text[i] >= '0' && text[i] <= '9'; ++i) index = index * 10 + (text[i] - '0');
    if (i == 0 || index == 0 || text_of(index) != text) return std::nullopt;
    return index;
  }
  static bool value_ok(V value, uint64_t model) { return value == model; }
  static std::string show(V value) { return std::to_string(value); }
  static uint64_t model_value_of(V value) { return value; }
};

// ---------------------------------------------------------------- sources of choices

// Seeded pseudo-random choices (the model test).
class RandomChoices {
 public:
  explicit RandomChoices(uint64_t seed) : rng_(seed) {}
  uint64_t below(uint64_t n) {  // in [0, n) (the modulo bias is negligible); 0 when n <= 1
    return n <= 1 ? 0 : rng_() % n;
  }
  bool exhausted() const { return false; }

 private:
  std::mt19937_64 rng_;
};

// Choices read from a fuzzer's bytes: as few bytes as the range needs, and
// zeros once the input is used up.
class ByteChoices {
 public:
  ByteChoices(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint64_t below(uint64_t n) {
    if (n <= 1) return 0;
    uint64_t raw = 0;
    for (uint64_t span = n - 1; span != 0; span >>= 8) raw = (raw << 8) | byte();
    return raw % n;
  }
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  bool exhausted() const { return pos_ >= size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------- the driver

enum class Op : uint8_t {
  kInsert,       // insert_or_assign, any key of the universe
  kOverwrite,    // insert_or_assign of a present key
  kEraseAny,     // erase, any key
  kErasePresent, // erase, a present key
  kFind,
  kGet,
  kContains,
  kClear,
  kReserve,
  kCollect,
  kIterate,      // a full iteration, checked against the model
  kIterateWrite, // an iteration with writes between its steps
};

inline const char* op_name(Op op) {
  switch (op) {
    case Op::kInsert: return "insert_or_assign";
    case Op::kOverwrite: return "insert_or_assign(present)";
    case Op::kEraseAny: return "erase";
    case Op::kErasePresent: return "erase(present)";
    case Op::kFind: return "find";
    case Op::kGet: return "get";
    case Op::kContains: return "contains";
    case Op::kClear: return "clear";
    case Op::kReserve: return "reserve";
    case Op::kCollect: return "collect";
    case Op::kIterate: return "iterate";
    case Op::kIterateWrite: return "iterate-with-writes";
  }
  return "?";
}

// The shape of the workload on one map (random mode).
struct Profile {
  uint64_t universe = 64;           // keys are indices in [0, universe)
  uint64_t target = 32;             // inserts outweigh erasures below this size, and the reverse above
  uint32_t present_percent = 50;    // lookups that pick a present key (else any key of the universe)
  uint32_t erase_percent = 20;      // of the common operations, erasures while below the target (above: 40)
  uint64_t max_size = 0;            // if not 0, an insert of a new key into a map this big erases a present key first
  // Rare operations, per million operations.
  uint32_t clear_ppm = 20;
  uint32_t reserve_ppm = 100;
  uint32_t collect_ppm = 50;
  // Iterations: a full one after at least this many operations, and at
  // least size × factor since the last one (so that they stay a fraction of
  // the work); 0 = never.
  uint64_t iterate_every = 20000;
  uint64_t iterate_write_every = 50000;
  uint64_t iterate_size_factor = 2;
  uint64_t iterate_write_size_factor = 4;
  uint32_t max_writes_per_step = 3;  // writes between two steps of an iteration: 0..this
};

struct Totals {
  uint64_t maps = 0;
  uint64_t ops = 0;             // map operations, the writes inside iterations included
  uint64_t writes = 0;
  uint64_t lookups = 0;
  uint64_t collections = 0;     // forced
  uint64_t clears = 0;
  uint64_t reserves = 0;
  uint64_t iterations = 0;      // full, checked
  uint64_t write_iterations = 0;
  uint64_t visits = 0;          // entries produced by iterators
  uint64_t writes_while_growing_and_marking = 0;
  uint64_t growths_seen = 0;    // writes that left the map growing after one that did not
  uint64_t max_size = 0;
  // How many forced collections, clears and reserves the profiles' rates
  // made likely (ops × rate, summed over rounds); set by the test's loop.
  double expected_collections = 0;
  double expected_clears = 0;
  double expected_reserves = 0;
};

template <class Kind, class Source>
class Driver {
 public:
  using K = typename Kind::K;
  using V = typename Kind::V;
  using MapT = typename Kind::MapT;

  Driver(tricolor::Runtime& runtime, tricolor::Mutator& m, Source& source, std::string label)
      : runtime_(runtime), m_(m), src_(source), label_(std::move(label)), map_(m) {}

  // Called after each write that started a growth (the test starts a
  // collection from another thread there, so that the growth runs while the
  // collector marks).
  void on_growth_start(std::function<void()> hook) { growth_hook_ = std::move(hook); }

  // A fresh map (the previous one becomes garbage), and an empty model.
  void start_map(tricolor::MapOptions options, const Profile& profile) {
    profile_ = profile;
    was_growing_ = false;
    map_ = tricolor::make<MapT>(m_, options);
    model_.clear();
    present_.clear();
    since_iterate_ = since_iterate_write_ = 0;
    ++totals_.maps;
    ++map_number_;
  }

  // About `ops` operations chosen by the profile (RandomChoices), those made
  // inside iterations included.
  void run(uint64_t ops) {
    for (const uint64_t end = totals_.ops + ops; totals_.ops < end && !failed();) {
      const uint64_t size = model_.size();
      if (profile_.iterate_every != 0 &&
          since_iterate_ >= std::max(profile_.iterate_every, profile_.iterate_size_factor * size)) {
        do_op(Op::kIterate);
      } else if (profile_.iterate_write_every != 0 &&
                 since_iterate_write_ >= std::max(profile_.iterate_write_every, profile_.iterate_write_size_factor * size)) {
        do_op(Op::kIterateWrite);
      } else {
        do_op(choose_op());
      }
    }
  }

  // Operations decoded from the bytes until they run out (ByteChoices):
  // one byte per operation, then its arguments.
  void run_decoded(uint32_t max_writes_per_step) {
    profile_.max_writes_per_step = max_writes_per_step;
    decoded_ = true;
    while (!src_.exhausted() && !failed()) do_op(decode_op(static_cast<uint8_t>(src_.below(256))));
  }

  // Byte → operation: common ones take 240 of the 256 codes; the rest are
  // rare (one code each for a collection and a clear).
  static Op decode_op(uint8_t code) {
    if (code < 240) {
      static constexpr Op kCommon[] = {Op::kInsert,       Op::kInsert,       Op::kInsert, Op::kOverwrite, Op::kEraseAny,
                                       Op::kErasePresent, Op::kErasePresent, Op::kFind,   Op::kGet,       Op::kContains};
      return kCommon[code % (sizeof(kCommon) / sizeof(kCommon[0]))];
    }
    switch (code - 240) {
      case 0: return Op::kCollect;
      case 1: return Op::kClear;
      case 2: case 3: return Op::kReserve;
      case 4: case 5: case 6: case 7: case 8: return Op::kIterate;
      default: return Op::kIterateWrite;
    }
  }

  // Everything in the model is in the map and nothing else: by a full
  // iteration and by lookups of every model key.
  void full_check() {
    if (failed()) return;
    iterate_and_check();
    if (failed()) return;
    uint64_t n = 0;
    for (const auto& [index, slot] : model_) {
      if (++n % 64 == 0) m_.safepoint();
      const uint64_t expected = slot.value;
      const bool ok = Kind::with_probe(m_, index, 0, [&](const auto& probe) {
        const std::optional<V> got = map_->get(probe);
        return got.has_value() && Kind::value_ok(*got, expected);
      });
      if (!ok) return fail("full check: key " + std::to_string(index) + " (value " + std::to_string(expected) +
                           ") not found by get(), or with the wrong value");
    }
    check_size("full check");
  }

  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  const Totals& totals() const { return totals_; }
  MapT* map() const { return map_.get(); }
  size_t model_size() const { return model_.size(); }

 private:
  struct Slot {
    uint64_t value;
    size_t position;  // in present_
  };
  struct Record {
    Op op;
    uint64_t index;
    uint64_t value;
    int result;
  };
  static constexpr size_t kTrail = 24;

  // ------------------------------------------------------------ choice

  Op choose_op() {
    uint64_t r = src_.below(1'000'000);
    if (r < profile_.collect_ppm) return Op::kCollect;
    r -= profile_.collect_ppm;
    if (r < profile_.clear_ppm) return Op::kClear;
    r -= profile_.clear_ppm;
    if (r < profile_.reserve_ppm) return Op::kReserve;
    // Common operations (percent): inserts and erasures pull the size to
    // the target; lookups take the rest.
    const bool below = model_.size() < profile_.target;
    const uint64_t inserts = below ? 40 : 20;
    const uint64_t erasures = below ? std::min<uint64_t>(profile_.erase_percent, 40) : 40;
    uint64_t c = src_.below(100);
    if (c < inserts) return Op::kInsert;
    c -= inserts;
    if (c < 10) return Op::kOverwrite;
    c -= 10;
    if (c < erasures) return c * 4 < erasures ? Op::kEraseAny : Op::kErasePresent;
    c -= erasures;
    return c % 3 == 0 ? Op::kFind : c % 3 == 1 ? Op::kGet : Op::kContains;
  }

  uint64_t any_key() { return src_.below(profile_.universe); }
  // A present key if there is one, else any key.
  uint64_t present_key() { return present_.empty() ? any_key() : present_[src_.below(present_.size())]; }
  uint64_t lookup_key() { return src_.below(100) < profile_.present_percent ? present_key() : any_key(); }
  // A value never stored before (NodeKind: sometimes a null value, model 0).
  uint64_t fresh_value() {
    if (Kind::kNullValues && src_.below(32) == 0) return 0;
    return ++value_counter_ * 0xD1B54A32D192ED03ull;  // odd multiplier: distinct, never 0
  }

  // ------------------------------------------------------------ operations

  void do_op(Op op) {
    ++totals_.ops;
    ++since_iterate_;
    ++since_iterate_write_;
    if (totals_.ops % 32 == 0) m_.safepoint();
    switch (op) {
      case Op::kInsert: return insert(any_key(), op);
      case Op::kOverwrite: return insert(present_key(), op);
      case Op::kEraseAny: return erase(any_key(), op);
      case Op::kErasePresent: return erase(present_key(), op);
      case Op::kFind:
      case Op::kGet:
      case Op::kContains: return lookup(lookup_key(), op);
      case Op::kClear: return clear();
      case Op::kReserve: return reserve();
      case Op::kCollect: return collect();
      case Op::kIterate:
        since_iterate_ = 0;
        return iterate_and_check();
      case Op::kIterateWrite:
        since_iterate_write_ = 0;
        return iterate_with_writes();
    }
  }

  void insert(uint64_t index, Op op) {
    if (profile_.max_size != 0 && model_.size() >= profile_.max_size && model_.find(index) == model_.end()) {
      erase(present_key(), Op::kErasePresent);
      if (failed()) return;
    }
    const uint64_t value = fresh_value();
    const bool expected_new = model_.find(index) == model_.end();
    const bool was_new = Kind::with_key(m_, index, [&](const K& key) {
      return Kind::with_value(m_, value, [&](const V& v) { return map_->insert_or_assign(m_, key, v); });
    });
    record(op, index, value, was_new);
    model_set(index, value);
    after_write();
    if (was_new != expected_new)
      return fail(std::string("insert_or_assign returned ") + (was_new ? "true (new)" : "false (overwrite)") +
                  " for key " + std::to_string(index) + ", which the model " +
                  (expected_new ? "does not have" : "has"));
    check_size("insert_or_assign");
    if (failed()) return;
    // Read it back at once (a lookup right after a write may meet a growth).
    check_lookup(index, Op::kGet, src_.below(Kind::kProbeVariants), "read back after insert_or_assign");
  }

  void erase(uint64_t index, Op op) {
    const bool expected = model_.find(index) != model_.end();
    const uint32_t variant = static_cast<uint32_t>(src_.below(Kind::kProbeVariants));
    const bool removed =
        Kind::with_probe(m_, index, variant, [&](const auto& probe) { return map_->erase(m_, probe); });
    record(op, index, variant, removed);
    if (expected) model_erase(index);
    after_write();
    if (removed != expected)
      return fail(std::string("erase returned ") + (removed ? "true" : "false") + " for key " +
                  std::to_string(index) + ", which the model " + (expected ? "has" : "does not have") +
                  " (probe variant " + std::to_string(variant) + ")");
    check_size("erase");
    if (failed()) return;
    check_lookup(index, Op::kContains, src_.below(Kind::kProbeVariants), "lookup after erase");
  }

  void lookup(uint64_t index, Op op) {
    ++totals_.lookups;
    const uint32_t variant = static_cast<uint32_t>(src_.below(Kind::kProbeVariants));
    record(op, index, variant, -1);
    check_lookup(index, op, variant, op_name(op));
  }

  // One lookup of `index` by find, get or contains, against the model.
  void check_lookup(uint64_t index, Op how, uint64_t variant, const char* what) {
    const auto slot = model_.find(index);
    const bool expected = slot != model_.end();
    const uint64_t expected_value = expected ? slot->second.value : 0;
    std::string problem = Kind::with_probe(m_, index, static_cast<uint32_t>(variant), [&](const auto& probe) -> std::string {
      switch (how) {
        case Op::kFind: {
          const V* found = map_->find(probe);
          if ((found != nullptr) != expected) return found ? "find found it" : "find did not find it";
          if (found != nullptr && !Kind::value_ok(*found, expected_value))
            return "find gave value " + Kind::show(*found) + whose_value(*found);
          return {};
        }
        case Op::kContains:
          if (map_->contains(probe) != expected) return expected ? "contains said no" : "contains said yes";
          return {};
        default: {
          const std::optional<V> got = map_->get(probe);
          if (got.has_value() != expected) return got ? "get found it" : "get did not find it";
          if (got && !Kind::value_ok(*got, expected_value)) return "get gave value " + Kind::show(*got) + whose_value(*got);
          return {};
        }
      }
    });
    if (!problem.empty())
      fail(std::string(what) + ": key " + std::to_string(index) + " (model: " +
           (expected ? "value " + std::to_string(expected_value) : std::string("absent")) + "): " + problem +
           " (probe variant " + std::to_string(variant) + ")");
  }

  // On a wrong value: whose value it is in the model, if anyone's (tells a
  // mix-up of slots from a stale or freed one).
  std::string whose_value(const V& value) const {
    const uint64_t wanted = Kind::model_value_of(value);
    for (const auto& [index, slot] : model_)
      if (slot.value == wanted) return " (the model's current value of key " + std::to_string(index) + ")";
    return " (no key's current value in the model)";
  }

  void clear() {
    ++totals_.clears;
    record(Op::kClear, 0, 0, -1);
    map_->clear(m_);
    model_.clear();
    present_.clear();
    after_write();
    check_size("clear");
    if (!failed() && !map_->empty()) fail("clear: empty() is false");
  }

  void reserve() {
    ++totals_.reserves;
    // Up to twice the universe (and the size), capped: a reserve is O(1) on
    // the writer, but its table is real memory.
    const uint64_t bound = std::min<uint64_t>(2 * std::max<uint64_t>(profile_.universe, model_.size()) + 1, 1u << 22);
    const uint64_t n = src_.below(bound);
    record(Op::kReserve, n, 0, -1);
    map_->reserve(m_, n);
    after_write();
    check_size("reserve");
    if (failed()) return;
    const uint64_t index = present_key();
    check_lookup(index, Op::kGet, 0, "lookup after reserve");
  }

  void collect() {
    ++totals_.collections;
    record(Op::kCollect, 0, 0, -1);
    runtime_.collect();
    if (present_.empty()) return;
    // A few values must have survived it.
    for (int i = 0; i < 4 && !failed(); ++i) check_lookup(present_key(), Op::kFind, 0, "lookup after collect");
  }

  // A full iteration: every model entry exactly once, with its value, and
  // nothing else.
  void iterate_and_check() {
    ++totals_.iterations;
    record(Op::kIterate, model_.size(), 0, -1);
    std::unordered_set<uint64_t> seen;
    seen.reserve(model_.size());
    {
      auto range = map_->entries(m_);
      for (auto it = range.begin(); it != std::default_sentinel; ++it) {
        const auto entry = *it;
        ++totals_.visits;
        const std::optional<uint64_t> index = Kind::index_of(entry.key);
        if (!index) return fail("iteration produced a corrupt key");
        const auto slot = model_.find(*index);
        if (slot == model_.end()) return fail("iteration produced key " + std::to_string(*index) + ", not in the model");
        if (!Kind::value_ok(entry.value, slot->second.value))
          return fail("iteration produced key " + std::to_string(*index) + " with value " + Kind::show(entry.value) +
                      whose_value(entry.value) + ", the model has " + std::to_string(slot->second.value));
        if (!seen.insert(*index).second) return fail("iteration produced key " + std::to_string(*index) + " twice");
      }
    }
    if (seen.size() != model_.size()) {
      for (const auto& [index, slot] : model_)
        if (!seen.count(index))
          return fail("iteration missed key " + std::to_string(index) + " (visited " + std::to_string(seen.size()) +
                      " of " + std::to_string(model_.size()) + ")");
    }
    check_size("iteration");
  }

  // An iteration with random writes between its steps (Go's rules, see the
  // top of this file).
  void iterate_with_writes() {
    ++totals_.write_iterations;
    record(Op::kIterateWrite, model_.size(), 0, -1);
    std::unordered_set<uint64_t> whole_loop;  // present since the loop started, never erased
    whole_loop.reserve(model_.size());
    for (const auto& [index, slot] : model_) whole_loop.insert(index);
    std::unordered_set<uint64_t> visited;  // entries visited (an erasure + insertion makes a new entry)
    visited.reserve(model_.size());
    iteration_.whole_loop = &whole_loop;
    iteration_.visited = &visited;
    bool cleared = false;
    {
      auto range = map_->entries(m_);
      auto it = range.begin();
      for (uint64_t step = 0; it != std::default_sentinel; ++step) {
        if (cleared) {
          iteration_ = {};
          return fail("iteration went on after clear() (step " + std::to_string(step) + ")");
        }
        const auto entry = *it;
        ++totals_.visits;
        const std::optional<uint64_t> index = Kind::index_of(entry.key);
        std::string problem;
        if (!index) {
          problem = "produced a corrupt key";
        } else if (const auto slot = model_.find(*index); slot == model_.end()) {
          problem = "produced key " + std::to_string(*index) + ", not in the map at the visit (erased before it, or never inserted)";
        } else if (!Kind::value_ok(entry.value, slot->second.value)) {
          problem = "produced key " + std::to_string(*index) + " with value " + Kind::show(entry.value) +
                    whose_value(entry.value) + ", its current value is " + std::to_string(slot->second.value);
        } else if (!visited.insert(*index).second) {
          problem = "produced key " + std::to_string(*index) + " twice (no erasure and insertion in between)";
        }
        if (!problem.empty()) {
          iteration_ = {};
          return fail("iteration with writes, step " + std::to_string(step) + ": " + problem);
        }
        const uint64_t writes = src_.below(profile_.max_writes_per_step + 1);
        for (uint64_t w = 0; w < writes && !failed(); ++w) cleared |= write_during_iteration();
        if (failed()) {
          iteration_ = {};
          return;
        }
        ++it;
      }
    }
    iteration_ = {};
    for (const uint64_t index : whole_loop)
      if (!visited.count(index))
        return fail("iteration with writes missed key " + std::to_string(index) +
                    ", present during the whole loop (visited " + std::to_string(visited.size()) + ")");
  }

  // One write between two steps of an iteration; true if it was a clear().
  // One operation between two steps of an iteration (no iteration itself);
  // true if it was a clear().
  bool write_during_iteration() {
    const Op op = decoded_ ? decode_write_op(static_cast<uint8_t>(src_.below(256))) : choose_write_op();
    do_op(op);
    return op == Op::kClear;
  }

  // Mostly writes; inserts (of new keys) and erasures keep the size near the
  // target as outside iterations; collections, clear() and reserve() at the
  // profile's rates.
  Op choose_write_op() {
    uint64_t rare = src_.below(1'000'000);
    if (rare < profile_.collect_ppm) return Op::kCollect;
    rare -= profile_.collect_ppm;
    if (rare < profile_.clear_ppm) return Op::kClear;
    rare -= profile_.clear_ppm;
    if (rare < profile_.reserve_ppm) return Op::kReserve;
    const uint64_t r = src_.below(100);
    if (r < (model_.size() < profile_.target ? 35u : 20u)) return Op::kInsert;
    if (r < 45) return Op::kOverwrite;
    if (r < 85) return Op::kErasePresent;
    if (r < 90) return Op::kEraseAny;
    return r % 3 == 0 ? Op::kFind : r % 3 == 1 ? Op::kGet : Op::kContains;
  }

  static Op decode_write_op(uint8_t code) {
    if (code < 240) return decode_op(code);
    switch (code - 240) {
      case 0: return Op::kCollect;
      case 1: return Op::kClear;
      case 2: case 3: return Op::kReserve;
      default: return Op::kOverwrite;
    }
  }

  // ------------------------------------------------------------ model

  void model_set(uint64_t index, uint64_t value) {
    const auto [slot, inserted] = model_.try_emplace(index, Slot{value, present_.size()});
    if (!inserted) {
      slot->second.value = value;
      return;
    }
    present_.push_back(index);
    if (iteration_.visited != nullptr) iteration_.visited->erase(index);  // a new entry
    totals_.max_size = std::max<uint64_t>(totals_.max_size, model_.size());
  }
  void model_erase(uint64_t index) {
    const auto slot = model_.find(index);
    const size_t position = slot->second.position;
    const uint64_t last = present_.back();
    present_[position] = last;
    model_.find(last)->second.position = position;
    present_.pop_back();
    model_.erase(slot);
    if (iteration_.whole_loop != nullptr) iteration_.whole_loop->erase(index);
  }

  void after_write() {
    ++totals_.writes;
    const bool growing = map_->growing();
    if (growing && runtime_.collector().phase() == tricolor::gc::Phase::kMark)
      ++totals_.writes_while_growing_and_marking;
    if (growing && !was_growing_) {
      ++totals_.growths_seen;
      if (growth_hook_) growth_hook_();
    }
    was_growing_ = growing;
    if (model_.empty() && iteration_.whole_loop != nullptr) iteration_.whole_loop->clear();  // clear()
  }

  void check_size(const char* after) {
    if (map_->size() != model_.size())
      fail(std::string("size() is ") + std::to_string(map_->size()) + " after " + after + ", the model has " +
           std::to_string(model_.size()));
  }

  // ------------------------------------------------------------ failure

  void record(Op op, uint64_t index, uint64_t value, int result) {
    trail_[trail_next_++ % kTrail] = Record{op, index, value, result};
  }

  void fail(const std::string& what) {
    if (failed()) return;
    std::string text = label_ + " [" + Kind::kName + "], map #" + std::to_string(map_number_) + " (growth " +
                       tricolor::to_string(map_->options().growth) + ", extra_buckets_per_write " +
                       std::to_string(map_->options().extra_buckets_per_write) + "), operation #" +
                       std::to_string(totals_.ops) + ": " + what;
    text += "\n  map: size " + std::to_string(map_->size()) + ", 2^" + std::to_string(map_->log2_buckets()) +
            " buckets, " + (map_->growing() ? "growing" : "not growing") + "; model size " +
            std::to_string(model_.size()) + "; universe " + std::to_string(profile_.universe);
    text += "\n  last operations (oldest first; value = stored value, probe variant or size):";
    const uint64_t first = trail_next_ > kTrail ? trail_next_ - kTrail : 0;
    for (uint64_t i = first; i < trail_next_; ++i) {
      const Record& r = trail_[i % kTrail];
      text += "\n    " + std::string(op_name(r.op)) + " key " + std::to_string(r.index) + " value " +
              std::to_string(r.value) + (r.result < 0 ? std::string() : " -> " + std::to_string(r.result));
    }
    failure_ = text;
  }

  tricolor::Runtime& runtime_;
  tricolor::Mutator& m_;
  Source& src_;
  std::string label_;
  tricolor::Local<MapT> map_;
  Profile profile_;
  std::unordered_map<uint64_t, Slot> model_;
  std::vector<uint64_t> present_;
  struct {
    std::unordered_set<uint64_t>* whole_loop = nullptr;
    std::unordered_set<uint64_t>* visited = nullptr;
  } iteration_;
  std::function<void()> growth_hook_;
  bool was_growing_ = false;
  bool decoded_ = false;  // run_decoded(): writes inside iterations are decoded too
  uint64_t value_counter_ = 0;
  uint64_t since_iterate_ = 0;
  uint64_t since_iterate_write_ = 0;
  uint64_t map_number_ = 0;
  Totals totals_;
  Record trail_[kTrail] = {};
  uint64_t trail_next_ = 0;
  std::string failure_;
};

}  // namespace map_model
