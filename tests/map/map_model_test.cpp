// map_model_test.cpp — model-based randomized tests of the managed map:
// millions of mixed operations on Maps of four kinds (uint64 -> uint64,
// uint64 -> Node*, managed string keys, a colliding hash), checked step by
// step against a std::unordered_map (the driver: map_model.h), with the heap
// verifier on, collections forced now and then (some from another thread
// just as a growth starts) and the pacer's own cycles running concurrently
// (or stopping the world: TRICOLOR_MODE).
//
// Each test case runs a series of maps ("rounds"), each with a random shape
// (key universe, target size, growth mode inline or deferred, writer quota)
// and ends each with a full check (iteration and lookups against the model).
// The figures of each case (operations, iterations, regrows, buckets
// evacuated by the workers...) are printed as doctest messages.
// Replay: the seed is printed on failure (and at the start);
// TRICOLOR_MAP_MODEL_SEED=<seed> takes it back (the operations replay; the
// maps' hash seeds and the collector's timing do not).
// Size: TRICOLOR_MAP_MODEL_OPS, the operations of the whole suite (default
// 10 000 000), shared between the cases in fixed proportions.
#include <doctest/doctest.h>
#include <tricolor/tricolor.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "../gc/test_types.h"
#include "map_model.h"

using map_model::Driver;
using map_model::Profile;
using map_model::RandomChoices;
using map_model::Totals;
using tricolor::MapGrowth;
using tricolor::MapOptions;

namespace {

constexpr uint64_t kDefaultOps = 10'000'000;

uint64_t suite_seed() {
  static const uint64_t seed = [] {
    const uint64_t from_env = map_model::env_u64("TRICOLOR_MAP_MODEL_SEED", 0);
    const uint64_t s = from_env != 0 ? from_env : (uint64_t{std::random_device{}()} << 32 | std::random_device{}()) | 1;
    std::printf("map model seed: %llu (replay with TRICOLOR_MAP_MODEL_SEED=%llu)\n",
                static_cast<unsigned long long>(s), static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}

// This case's share of the suite's operations, in per mille.
uint64_t ops_share(uint64_t per_mille) {
  static const uint64_t total = map_model::env_u64("TRICOLOR_MAP_MODEL_OPS", kDefaultOps);
  return std::max<uint64_t>(total * per_mille / 1000, 1000);
}

// A per-case stream from the suite's seed.
uint64_t case_seed(uint64_t case_number) { return tricolor::hash_word(suite_seed(), case_number); }

std::string replay_hint() {
  return "seed " + std::to_string(suite_seed()) + " (replay: TRICOLOR_MAP_MODEL_SEED=" + std::to_string(suite_seed()) +
         " TRICOLOR_MODE=" + (test::quiet_options().concurrent ? "concurrent" : "stw") + ")";
}

tricolor::Options model_options(int64_t min_heap_bytes) {
  tricolor::Options o = test::quiet_options();
  o.verify = true;
  o.min_heap_bytes = min_heap_bytes;  // a small goal: many pacer cycles as well
  return o;
}

struct Round {
  MapOptions options;
  Profile profile;
  uint64_t ops = 0;
};

MapOptions random_growth(RandomChoices& r) {
  MapOptions o;
  o.growth = r.below(2) == 0 ? MapGrowth::kInline : MapGrowth::kDeferred;
  o.extra_buckets_per_write = r.below(4) == 0 ? static_cast<uint32_t>(1 + r.below(8)) : 1;
  return o;
}

// Maps of every size: from a handful of keys to a few hundred thousand.
Round mixed_round(RandomChoices& r, uint64_t remaining) {
  static constexpr uint64_t kUniverses[] = {4, 9, 16, 64, 256, 1024, 4096, 16384, 65536, 262144};
  Round round;
  round.options = random_growth(r);
  // Small universes more often: they make many short rounds.
  const uint64_t pick = std::min(r.below(std::size(kUniverses)), r.below(std::size(kUniverses)) + 2);
  Profile& p = round.profile;
  p.universe = kUniverses[std::min<uint64_t>(pick, std::size(kUniverses) - 1)];
  p.target = std::max<uint64_t>(1, p.universe * (1 + r.below(9)) / 10);
  p.present_percent = static_cast<uint32_t>(30 + r.below(60));
  p.clear_ppm = r.below(3) == 0 ? 0 : 30;
  p.reserve_ppm = 200;
  p.collect_ppm = p.universe <= 4096 ? 150 : 30;
  p.iterate_every = 20000;
  p.iterate_write_every = 40000;
  p.max_writes_per_step = static_cast<uint32_t>(r.below(5));
  round.ops = std::min(remaining, std::max<uint64_t>(30000 + r.below(100000), 5 * p.target));
  return round;
}

// Small maps of a constant size with keys mostly new (a wide universe): each
// insert of a new key at the size limit first erases another. The limit is
// the most 2^B buckets hold without a doubling (6.5 per bucket), so chains
// fill unevenly, each bucket overflows now and then, and the overflow
// buckets pile up until a same-size regrow sheds them.
Round churn_round(RandomChoices& r, uint64_t remaining, MapGrowth growth) {
  Round round;
  round.options = MapOptions{growth, r.below(3) == 0 ? 2u : 1u};
  Profile& p = round.profile;
  p.universe = uint64_t{1} << 30;
  static constexpr uint64_t kSizes[] = {13, 26, 52, 104, 208};  // 6.5 × 2^B, B = 1..5
  p.max_size = kSizes[r.below(std::size(kSizes))];
  p.target = p.max_size;
  p.present_percent = 80;
  p.clear_ppm = 0;
  p.reserve_ppm = 0;
  // Every run must see collections (check_common). At 100 ppm the
  // sanitizers' runs of 50-75 K operations expect only 5-7.5 of them, and
  // seed 1164005913583233425 drew none; at 400, 20-30.
  p.collect_ppm = 400;
  p.iterate_every = 5000;
  p.iterate_write_every = 10000;
  p.max_writes_per_step = 3;
  round.ops = std::min<uint64_t>(remaining, 40000 + r.below(40000));
  return round;
}

// Collections started from another thread (Runtime::collect), on request:
// the mutator asks at a growth's start and goes on writing while the cycle
// marks (in stop-the-world mode: races the mutator's own collections, which
// found the double release of free spans fixed in gc/heap.cpp).
class AsyncCollector {
 public:
  AsyncCollector(tricolor::Runtime& runtime, tricolor::Mutator& m)
      : runtime_(runtime), mutator_(m), enabled_(true), thread_([this] { run(); }) {}
  AsyncCollector(const AsyncCollector&) = delete;
  AsyncCollector& operator=(const AsyncCollector&) = delete;
  ~AsyncCollector() { finish(); }

  void request() {
    if (!enabled_) return;
    {
      std::lock_guard lock(mutex_);
      requested_ = true;
    }
    wakeup_.notify_one();
  }
  // Stops the thread; the mutator (this thread) is blocked meanwhile, so a
  // stop-the-world cycle in progress need not wait for it.
  void finish() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wakeup_.notify_one();
    tricolor::BlockingRegion blocked(mutator_);
    thread_.join();
  }
  uint64_t cycles() const { return cycles_.load(); }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wakeup_.wait(lock, [&] { return requested_ || stop_; });
      if (stop_) return;
      requested_ = false;
      lock.unlock();
      runtime_.collect();
      cycles_.fetch_add(1);
      lock.lock();
    }
  }

  tricolor::Runtime& runtime_;
  tricolor::Mutator& mutator_;
  const bool enabled_;
  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool requested_ = false;
  bool stop_ = false;
  std::atomic<uint64_t> cycles_{0};
  std::thread thread_;
};

// At the end of a case, before its Runtime goes: its maps are garbage by
// now; let the deferred evacuations that hold their tables finish, then
// collect, so that every Table is swept by a collection (the teardown would
// also run their destructors; see the last test case).
void sweep_maps(tricolor::Runtime& runtime, tricolor::Mutator& m) {
  {
    tricolor::BlockingRegion blocked(m);
    while (runtime.collector().deferred_work().size() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  runtime.collect();
}

template <class Kind, class MakeRound>
Totals run_rounds(tricolor::Runtime& runtime, tricolor::Mutator& m, const std::string& label, uint64_t seed,
                  uint64_t ops, MakeRound&& make_round, std::string& failure, AsyncCollector* async = nullptr) {
  RandomChoices choices(seed);
  Driver<Kind, RandomChoices> driver(runtime, m, choices, label);
  if (async != nullptr) driver.on_growth_start([async] { async->request(); });
  uint64_t done = 0;
  double expected_collections = 0, expected_clears = 0, expected_reserves = 0;
  while (done < ops && !driver.failed()) {
    const Round round = make_round(choices, ops - done);
    const uint64_t before = driver.totals().ops;
    driver.start_map(round.options, round.profile);
    driver.run(round.ops);
    driver.full_check();
    const uint64_t round_ops = driver.totals().ops - before;
    expected_collections += static_cast<double>(round_ops) * round.profile.collect_ppm / 1e6;
    expected_clears += static_cast<double>(round_ops) * round.profile.clear_ppm / 1e6;
    expected_reserves += static_cast<double>(round_ops) * round.profile.reserve_ppm / 1e6;
    done += round_ops;
  }
  failure = driver.failure();
  Totals totals = driver.totals();
  totals.expected_collections = expected_collections;
  totals.expected_clears = expected_clears;
  totals.expected_reserves = expected_reserves;
  return totals;
}

std::string describe(const Totals& t) {
  return std::to_string(t.ops) + " ops on " + std::to_string(t.maps) + " maps (" + std::to_string(t.writes) +
         " writes, " + std::to_string(t.lookups) + " lookups, " + std::to_string(t.collections) + " forced collections, " +
         std::to_string(t.clears) + " clears, " + std::to_string(t.reserves) + " reserves, " +
         std::to_string(t.iterations) + " checked iterations, " + std::to_string(t.write_iterations) +
         " iterations with writes, " + std::to_string(t.visits) + " entries visited; largest map " +
         std::to_string(t.max_size) + "; growths seen " + std::to_string(t.growths_seen) +
         ", writes while growing during a mark " + std::to_string(t.writes_while_growing_and_marking) + ")";
}

// A rare operation must have happened where its rate made that near certain:
// with 20 expected, none has a chance of e^-20 (2e-9). Below that a seed's
// rounds gave it too few chances (a TSan run drew four long rounds and no
// clear), and the run says so instead of failing by luck.
void check_rare(const char* what, uint64_t seen, double expected) {
  if (expected >= 20) {
    INFO(what << ": " << expected << " expected from the rates");
    CHECK(seen > 0);
  } else if (seen == 0) {
    MESSAGE("no " << what << ", with only " << expected << " expected from this seed's rounds");
  }
}

void check_common(const Totals& t, uint64_t ops) {
  CHECK(t.ops >= ops);
  CHECK(t.iterations > 0);
  CHECK(t.write_iterations > 0);
  check_rare("forced collections", t.collections, t.expected_collections);
}

}  // namespace

TEST_CASE("map model: uint64 keys and values, maps of every size, both growth modes") {
  INFO(replay_hint());
  tricolor::Runtime runtime(model_options(1 << 20));
  tricolor::MutatorScope m(runtime);
  const uint64_t ops = ops_share(250);
  std::string failure;
  const Totals t = run_rounds<map_model::IntKind>(runtime, m, "mixed uint64", case_seed(1), ops, mixed_round, failure);
  REQUIRE_MESSAGE(failure.empty(), failure);
  check_common(t, ops);
  check_rare("clears", t.clears, t.expected_clears);
  check_rare("reserves", t.reserves, t.expected_reserves);
  MESSAGE("uint64 -> uint64: " << describe(t) << "; collections " << runtime.stats().collections);
  sweep_maps(runtime, m);
}

TEST_CASE("map model: Node* values survive collections while maps grow") {
  INFO(replay_hint());
  tricolor::Runtime runtime(model_options(1 << 20));
  tricolor::MutatorScope m(runtime);
  const uint64_t ops = ops_share(200);
  std::string failure;
  AsyncCollector async(runtime, m);  // a cycle at every growth's start (concurrent mode)
  const Totals t =
      run_rounds<map_model::NodeKind>(runtime, m, "mixed Node*", case_seed(2), ops, mixed_round, failure, &async);
  async.finish();
  REQUIRE_MESSAGE(failure.empty(), failure);
  check_common(t, ops);
  MESSAGE("uint64 -> Node*: " << describe(t) << "; collections " << runtime.stats().collections
                              << " (started at a growth: " << async.cycles() << ")");
  sweep_maps(runtime, m);
}

TEST_CASE("map model: managed string keys, lookups by string_view and by an equal fresh key") {
  INFO(replay_hint());
  tricolor::Runtime runtime(model_options(1 << 20));
  tricolor::MutatorScope m(runtime);
  const uint64_t ops = ops_share(200);
  std::string failure;
  const Totals t = run_rounds<map_model::StrKind>(runtime, m, "mixed Str*", case_seed(3), ops, mixed_round, failure);
  REQUIRE_MESSAGE(failure.empty(), failure);
  check_common(t, ops);
  MESSAGE("Str* -> uint64: " << describe(t) << "; collections " << runtime.stats().collections);
  sweep_maps(runtime, m);
}

TEST_CASE("map model: small maps with heavy churn regrow at the same size, both growth modes") {
  INFO(replay_hint());
  tricolor::Runtime runtime(model_options(1 << 20));
  tricolor::MutatorScope m(runtime);
  const uint64_t ops = ops_share(150);
  // Per growth mode: a real hash (string keys with inline growth, integer
  // keys and Node* values with deferred growth) and the colliding hash
  // (whose overflow chains make same-size regrows certain).
  uint64_t case_number = 10;
  for (const MapGrowth growth : {MapGrowth::kInline, MapGrowth::kDeferred}) {
    const std::string mode = tricolor::to_string(growth);
    CAPTURE(mode);
    const auto round = [growth](RandomChoices& r, uint64_t remaining) { return churn_round(r, remaining, growth); };
    std::string failure;
    const tricolor::MapStats before = tricolor::map_stats();
    const Totals t = growth == MapGrowth::kInline
                         ? run_rounds<map_model::StrKind>(runtime, m, "churn Str*", case_seed(case_number++), ops / 3, round, failure)
                         : run_rounds<map_model::NodeKind>(runtime, m, "churn Node*", case_seed(case_number++), ops / 3, round, failure);
    REQUIRE_MESSAGE(failure.empty(), failure);
    check_common(t, ops / 3);
    const tricolor::MapStats middle = tricolor::map_stats();
    const Totals c = run_rounds<map_model::CollidingKind>(runtime, m, "churn colliding", case_seed(case_number++), ops / 6,
                                                          round, failure);
    REQUIRE_MESSAGE(failure.empty(), failure);
    check_common(c, ops / 6);
    const tricolor::MapStats after = tricolor::map_stats();
    CHECK(after.same_size_growths > before.same_size_growths);
    CHECK(after.growths > before.growths);
    MESSAGE("churn, " << mode << " growth: " << describe(t) << "; same-size regrows "
                      << middle.same_size_growths - before.same_size_growths << ", doublings "
                      << middle.growths - before.growths << "\n  and with the colliding hash: " << describe(c)
                      << "; same-size regrows " << after.same_size_growths - middle.same_size_growths
                      << ", doublings " << after.growths - middle.growths);
  }
  sweep_maps(runtime, m);
}

TEST_CASE("map model: one big map grows while the collector marks and its workers evacuate") {
  INFO(replay_hint());
  tricolor::Runtime runtime(model_options(4 << 20));
  tricolor::MutatorScope m(runtime);
  const uint64_t ops = ops_share(200);
  const tricolor::MapStats before = tricolor::map_stats();
  // One deferred-growth map, insert-heavy towards a few hundred thousand
  // entries: every doubling's evacuation is shared between the writer and
  // the background workers while the pacer's cycles mark the map.
  const auto round = [](RandomChoices&, uint64_t remaining) {
    Round r;
    r.options = MapOptions{};  // deferred
    r.profile.universe = 1 << 20;
    r.profile.target = 1 << 20;
    r.profile.present_percent = 50;
    r.profile.erase_percent = 5;
    r.profile.clear_ppm = 0;
    r.profile.reserve_ppm = 0;
    r.profile.collect_ppm = 5;
    r.profile.iterate_every = 300000;
    r.profile.iterate_write_every = 300000;
    r.profile.iterate_size_factor = 1;
    r.profile.iterate_write_size_factor = 1;
    r.profile.max_writes_per_step = 1;
    r.ops = remaining;
    return r;
  };
  std::string failure;
  AsyncCollector async(runtime, m);  // a cycle at every growth's start (concurrent mode)
  const Totals t = run_rounds<map_model::NodeKind>(runtime, m, "big Node*", case_seed(6), ops, round, failure, &async);
  async.finish();
  REQUIRE_MESSAGE(failure.empty(), failure);
  CHECK(t.maps == 1);
  const tricolor::MapStats after = tricolor::map_stats();
  const uint64_t by_workers = after.evacuated_by_workers - before.evacuated_by_workers;
  const uint64_t by_mutators = after.evacuated_by_mutators - before.evacuated_by_mutators;
  MESSAGE("big map, " << std::string(runtime.options().concurrent ? "concurrent" : "stw") << ": " << describe(t)
                      << "; doublings " << after.growths - before.growths << ", old buckets evacuated by workers "
                      << by_workers << ", by the writer " << by_mutators << "; collections "
                      << runtime.stats().collections << " (started at a growth: " << async.cycles() << ")");
  CHECK(after.growths > before.growths);
  if (runtime.options().concurrent) {
    CHECK(by_workers > 0);
    CHECK(t.writes_while_growing_and_marking > 0);
  }
  sweep_maps(runtime, m);
}

// The Runtime's teardown runs the destructors of objects no sweep reclaimed
// (Heap::~Heap): a live map's Table frees its overflow chunks then. Before
// that fix LeakSanitizer (scripts/test's ASan run) reported them.
TEST_CASE("map model: a map's overflow buckets are freed at Runtime teardown") {
  const uint64_t overflow_before = tricolor::map_stats().overflow_buckets;
  tricolor::Runtime runtime(model_options(1 << 20));
  tricolor::MutatorScope m(runtime);
  using CollidingMap = map_model::CollidingKind::MapT;  // 8 chains: 100 keys must overflow
  tricolor::Local<CollidingMap> map(m, tricolor::make<CollidingMap>(m));
  for (uint64_t i = 0; i < 100; ++i) map->insert_or_assign(m, i, i);
  CHECK(tricolor::map_stats().overflow_buckets > overflow_before);
}

