// map_iteration_test.cpp — the map iterator's semantics: every entry once
// from a random start, exactly-once across growths with inserts, erases and
// updates during the loop, clear() ending it, collections inside it, and the
// safepoint polls it makes.
#include <doctest/doctest.h>
#include <tricolor/tricolor.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "map_test_types.h"

using namespace test;

TEST_CASE("iteration visits every entry once, from a random start") {
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  Local<IntMap> map(m, make<IntMap>(m));
  CHECK(map->entries(m).begin() == std::default_sentinel);  // empty map
  for (uint64_t i = 0; i < 5000; ++i) map->insert_or_assign(m, i, i + 1);
  std::set<uint64_t> first_keys;
  for (int round = 0; round < 8; ++round) {
    std::vector<uint64_t> seen;
    for (auto [key, value] : map->entries(m)) {
      CHECK(value == key + 1);
      seen.push_back(key);
    }
    CHECK(seen.size() == 5000);
    CHECK(std::set<uint64_t>(seen.begin(), seen.end()).size() == 5000);
    first_keys.insert(seen.front());
  }
  CHECK(first_keys.size() > 1);  // 8 loops from one start: 1 in 2^80 with random starts
}

TEST_CASE("exactly once across growths, with inserts, erases and updates during the loop") {
  for (MapGrowth growth : {MapGrowth::kDeferred, MapGrowth::kInline}) {
    const std::string mode = tricolor::to_string(growth);
    CAPTURE(mode);
    tricolor::Runtime runtime(verified_options());
    tricolor::MutatorScope m(runtime);
    Local<IntMap> map(m, make<IntMap>(m, MapOptions{growth, 1}));
    constexpr uint64_t kOriginal = 3000;
    for (uint64_t i = 0; i < kOriginal; ++i) map->insert_or_assign(m, i, i);
    std::mt19937_64 random(42);
    std::map<uint64_t, uint64_t> model;  // the map's contents, kept in step
    for (uint64_t i = 0; i < kOriginal; ++i) model[i] = i;
    std::set<uint64_t> erased_before_visit, visited;
    uint64_t next_new_key = 1'000'000;
    const uint64_t growths_before = tricolor::map_stats().growths;
    for (auto [key, value] : map->entries(m)) {
      CHECK(visited.insert(key).second);  // never twice
      CHECK(erased_before_visit.count(key) == 0);
      REQUIRE(model.count(key) == 1);
      CHECK(value == model[key]);  // the current value
      // Writes during the loop: 20 inserts (forcing several growths), an
      // update and an erase of random original keys.
      for (int k = 0; k < 20; ++k) {
        map->insert_or_assign(m, next_new_key, next_new_key);
        model[next_new_key] = next_new_key;
        ++next_new_key;
      }
      const uint64_t updated = random() % kOriginal;
      if (model.count(updated)) {
        map->insert_or_assign(m, updated, model[updated] + 7);
        model[updated] += 7;
      }
      const uint64_t erased = random() % kOriginal;
      if (model.count(erased) && erased != key) {
        CHECK(map->erase(m, erased));
        model.erase(erased);
        if (!visited.count(erased)) erased_before_visit.insert(erased);
      }
    }
    CHECK(tricolor::map_stats().growths - growths_before >= 3);  // 3,000 → 60,000 entries
    // Every original key still present at the end was visited.
    for (uint64_t i = 0; i < kOriginal; ++i)
      if (model.count(i)) CHECK(visited.count(i) == 1);
    CHECK(map->size() == model.size());
  }
}

TEST_CASE("clear() during the loop ends it, and the map is usable afterwards") {
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  Local<IntMap> map(m, make<IntMap>(m));
  for (uint64_t i = 0; i < 1000; ++i) map->insert_or_assign(m, i, i);
  size_t visited = 0;
  for (auto entry : map->entries(m)) {
    (void)entry;
    if (++visited == 10) {
      map->clear(m);
      map->insert_or_assign(m, 5000, 1);  // inserted after the clear: may or may not be visited
    }
  }
  CHECK(visited <= 11);
  CHECK(map->size() == 1);
  CHECK(map->get(uint64_t{5000}).value() == 1);
}

TEST_CASE("collections inside the loop: the iterated tables and the values stay alive") {
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  using NodeMap = Map<uint64_t, test::Node*>;
  Local<NodeMap> map(m, make<NodeMap>(m));
  for (int64_t i = 0; i < 20000; ++i) map->insert_or_assign(m, static_cast<uint64_t>(i), make<test::Node>(m, i));
  size_t visited = 0;
  for (auto [key, node] : map->entries(m)) {
    // Originals carry their key; entries inserted during the loop carry -1.
    CHECK(node->payload == (key < 1'000'000 ? static_cast<int64_t>(key) : -1));
    if (++visited % 4000 == 0) {
      // Grow meanwhile and collect: the old tables the loop reads are rooted by it.
      for (int64_t j = 0; j < 20000; ++j)
        map->insert_or_assign(m, static_cast<uint64_t>(1'000'000 + visited + j), make<test::Node>(m, -1));
      runtime.collect();
    }
  }
  CHECK(visited >= 20000);
}

TEST_CASE("iteration polls the safepoint every few buckets") {
  tricolor::Runtime runtime(test::quiet_options());
  tricolor::MutatorScope m(runtime);
  Local<IntMap> map(m, make<IntMap>(m));
  for (uint64_t i = 0; i < 100000; ++i) map->insert_or_assign(m, i, i);
  const uint64_t buckets = uint64_t{1} << map->log2_buckets();
  const uint64_t before = tricolor::map_stats().iterator_polls;
  size_t visited = 0;
  for (auto entry : map->entries(m)) {
    (void)entry;
    ++visited;
  }
  CHECK(visited == 100000);
  const uint64_t polls = tricolor::map_stats().iterator_polls - before;
  CHECK(polls >= buckets / IntMap::kIterationPollBuckets - 1);
  CHECK(polls <= buckets / IntMap::kIterationPollBuckets + 1);
}

TEST_CASE("an iteration that starts while the map grows reads unmoved old buckets, each entry once") {
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  // Inline growth: nothing moves unless a write moves it, so the loop starts
  // with most old buckets unmoved.
  Local<IntMap> map(m, make<IntMap>(m, MapOptions{MapGrowth::kInline, 1}));
  uint64_t n = 0;
  while (!map->growing()) map->insert_or_assign(m, n, n), ++n;
  std::set<uint64_t> visited;
  size_t visits = 0;
  for (auto [key, value] : map->entries(m)) {
    CHECK(value == key);
    visited.insert(key);
    ++visits;
    if (visits % 16 == 0) map->insert_or_assign(m, key, key);  // a write moves two buckets
  }
  CHECK(visits == n);
  CHECK(visited.size() == n);
}
