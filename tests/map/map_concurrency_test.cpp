// map_concurrency_test.cpp — maps and threads: misuse reports (two writers,
// a write during another thread's iteration), SyncMap under many writers,
// and a writer racing the collector's background evacuation (run under
// TSan by scripts/test).
#include <doctest/doctest.h>
#include <tricolor/tricolor.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "../gc/child_process.h"
#include "map_test_types.h"

using namespace test;

namespace {

// A hash that can hold a writer inside its write: the first call with key
// kHeldKey signals `held` and waits for `release`.
constexpr uint64_t kHeldKey = 424242;
std::atomic<bool> held{false};
std::atomic<bool> release{false};

struct HoldingHash {
  uint64_t operator()(uint64_t key, uint64_t seed) const {
    if (key == kHeldKey && !release.load()) {
      held.store(true);
      while (!release.load()) std::this_thread::yield();
    }
    return tricolor::hash_word(key, seed);
  }
};
using HeldMap = Map<uint64_t, uint64_t, HoldingHash>;

}  // namespace

TEST_CASE("a second writer on one map is fatal: concurrent map writes") {
  const test::ChildOutcome outcome = test::run_in_child([] {
    tricolor::Runtime runtime(test::quiet_options());
    tricolor::MutatorScope m(runtime);
    tricolor::Persistent<HeldMap> map(make<HeldMap>(m));
    map->insert_or_assign(m, 1, 1);
    std::thread first([&] {
      tricolor::MutatorScope m2(runtime);
      map->insert_or_assign(m2, kHeldKey, 1);  // holds inside its write
    });
    while (!held.load()) std::this_thread::yield();
    map->erase(m, uint64_t{1});  // the second writer: must not get through
    std::_Exit(0);
  });
  CHECK(outcome.aborted);
  CHECK(outcome.stderr_text.find("tricolor: fatal: concurrent map writes (Map::erase") != std::string::npos);
  if (tricolor::kChecked) CHECK(outcome.stderr_text.find("while another thread is in Map::insert_or_assign") != std::string::npos);
}

TEST_CASE("a write during another thread's iteration is fatal") {
  const test::ChildOutcome outcome = test::run_in_child([] {
    tricolor::Runtime runtime(test::quiet_options());
    tricolor::MutatorScope m(runtime);
    tricolor::Persistent<HeldMap> map(make<HeldMap>(m));
    for (uint64_t i = 0; i < 100; ++i) map->insert_or_assign(m, i, i);
    std::thread writer([&] {
      tricolor::MutatorScope m2(runtime);
      map->insert_or_assign(m2, kHeldKey, 1);
    });
    while (!held.load()) std::this_thread::yield();
    for (auto entry : map->entries(m)) (void)entry;  // advancing meets the writer
    std::_Exit(0);
  });
  CHECK(outcome.aborted);
  CHECK(outcome.stderr_text.find("tricolor: fatal: concurrent map iteration and map write (Map::entries") !=
        std::string::npos);
}

TEST_CASE("one writer after another (no overlap) is fine") {
  tricolor::Runtime runtime(test::quiet_options());
  tricolor::MutatorScope m(runtime);
  using IntMap = Map<uint64_t, uint64_t>;
  tricolor::Persistent<IntMap> map(make<IntMap>(m));
  for (int round = 0; round < 4; ++round) {
    std::thread t([&] {
      tricolor::MutatorScope m2(runtime);
      for (uint64_t i = 0; i < 1000; ++i) map->insert_or_assign(m2, i, i + round);
    });
    tricolor::BlockingRegion waiting(m);
    t.join();
  }
  CHECK(map->get(uint64_t{999}).value() == 999 + 3);
}

TEST_CASE("SyncMap: many threads writing, reading and erasing, with collections") {
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  using Shared = tricolor::SyncMap<uint64_t, test::Node*>;
  tricolor::Persistent<Shared> map(make<Shared>(m, m));
  constexpr int kThreads = 4;
  constexpr uint64_t kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      tricolor::MutatorScope mine(runtime);
      for (uint64_t i = 0; i < kPerThread; ++i) {
        const uint64_t key = t * kPerThread + i;
        map->insert_or_assign(mine, key, make<test::Node>(mine, static_cast<int64_t>(key)));
        map->insert_or_assign(mine, 1'000'000 + i % 64, make<test::Node>(mine, -1));  // contended keys
        if (i % 3 == 0) CHECK(map->erase(mine, key));
        if (i % 5000 == 0) runtime.collect();
      }
    });
  }
  {
    tricolor::BlockingRegion waiting(m);  // the others may collect meanwhile
    for (auto& thread : threads) thread.join();
  }
  runtime.collect();
  size_t present = 0;
  for (uint64_t key = 0; key < kThreads * kPerThread; ++key) {
    const std::optional<test::Node*> node = map->get(m, key);
    CHECK(node.has_value() == (key % kPerThread % 3 != 0));
    if (node) {
      CHECK((*node)->payload == static_cast<int64_t>(key));
      ++present;
    }
  }
  CHECK(map->size(m) == present + 64);
  size_t visited = 0;
  map->for_each(m, [&](uint64_t, test::Node* node) {
    CHECK(node != nullptr);
    ++visited;
  });
  CHECK(visited == present + 64);
}

TEST_CASE("a writer racing background evacuation and collections keeps every entry") {
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  using NodeMap = Map<uint64_t, test::Node*>;
  tricolor::Persistent<NodeMap> map(make<NodeMap>(m));
  std::atomic<bool> done{false};
  std::thread collector([&] {
    while (!done.load()) {
      runtime.collect();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  const uint64_t workers_before = tricolor::map_stats().evacuated_by_workers;
  constexpr uint64_t kKeys = 150000;
  for (uint64_t i = 0; i < kKeys; ++i) {
    map->insert_or_assign(m, i, make<test::Node>(m, static_cast<int64_t>(i)));
    if (i % 7 == 0 && i > 0) map->erase(m, i - 1);
    if (i % 11 == 0) REQUIRE(map->get(i).value()->payload == static_cast<int64_t>(i));
  }
  done.store(true);
  {
    tricolor::BlockingRegion waiting(m);
    collector.join();
  }
  runtime.collect();
  for (uint64_t i = 0; i < kKeys; ++i) {
    const bool erased = (i + 1) % 7 == 0 && i + 1 < kKeys;
    const test::Node* const* node = map->find(i);
    REQUIRE((node != nullptr) == !erased);
    if (node) CHECK((*node)->payload == static_cast<int64_t>(i));
  }
  CHECK(map->size() == kKeys - (kKeys - 1) / 7);
  MESSAGE("old buckets evacuated by workers: " << tricolor::map_stats().evacuated_by_workers - workers_before);
}

TEST_CASE("a pointer map's table is traced in chunks (oblets), a no-pointer one not at all") {
  tricolor::Runtime runtime(test::quiet_options());
  if (!runtime.options().concurrent) return;  // oblets are the concurrent marker's
  tricolor::MutatorScope m(runtime);
  using NodeMap = Map<uint64_t, test::Node*>;
  Local<NodeMap> map(m, make<NodeMap>(m));
  for (uint64_t i = 0; i < 200000; ++i) map->insert_or_assign(m, i, make<test::Node>(m, 1));
  while (map->growing()) map->insert_or_assign(m, 0, make<test::Node>(m, 1));
  runtime.collect();
  // The count is the last mark's (nothing allocates after it): the table's
  // 256 K slots (32 K buckets) alone make 128 oblets of 2 K slots.
  CHECK(runtime.collector().oblets_traced() >= 64);
  static_assert(Map<uint64_t, uint64_t>::TableT::kHasNoPointers);
  static_assert(!NodeMap::TableT::kHasNoPointers);
  static_assert(tricolor::ChunkTraceable<NodeMap::TableT>);
}
