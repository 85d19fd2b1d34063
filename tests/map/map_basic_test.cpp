// map_basic_test.cpp — the managed map's operations, growth modes, options,
// misuse reports, heterogeneous lookup, SyncMap and weak keys.
#include <doctest/doctest.h>
#include <tricolor/tricolor.h>

#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "map_test_types.h"

using namespace test;

TEST_CASE("insert, find, overwrite, erase and size on integer keys") {
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  Local<IntMap> map(m, make<IntMap>(m));
  CHECK(map->size() == 0);
  CHECK(map->find(uint64_t{1}) == nullptr);
  CHECK_FALSE(map->erase(m, uint64_t{1}));
  for (uint64_t i = 0; i < 10000; ++i) CHECK(map->insert_or_assign(m, i, i * 3));
  CHECK(map->size() == 10000);
  CHECK(map->log2_buckets() >= 10);
  for (uint64_t i = 0; i < 10000; ++i) {
    const uint64_t* v = map->find(i);
    REQUIRE(v != nullptr);
    CHECK(*v == i * 3);
  }
  CHECK_FALSE(map->contains(uint64_t{10000}));
  CHECK_FALSE(map->insert_or_assign(m, 7, 70));
  CHECK(map->get(uint64_t{7}).value() == 70);
  for (uint64_t i = 0; i < 10000; i += 2) CHECK(map->erase(m, i));
  CHECK(map->size() == 5000);
  for (uint64_t i = 0; i < 10000; ++i) CHECK(map->contains(i) == (i % 2 == 1));
  runtime.collect();
  for (uint64_t i = 1; i < 10000; i += 2) CHECK(map->get(i).value() == (i == 7 ? 70 : i * 3));
  map->clear(m);
  CHECK(map->size() == 0);
  CHECK_FALSE(map->contains(uint64_t{1}));
  CHECK(map->insert_or_assign(m, 1, 1));
  CHECK(map->size() == 1);
}

TEST_CASE("managed pointer values survive collections while the map grows") {
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  using NodeMap = Map<uint64_t, test::Node*>;
  Local<NodeMap> map(m, make<NodeMap>(m));
  for (int64_t i = 0; i < 50000; ++i) {
    map->insert_or_assign(m, static_cast<uint64_t>(i), make<test::Node>(m, i));
    if (i % 10000 == 0) runtime.collect();
  }
  runtime.collect();
  for (int64_t i = 0; i < 50000; ++i) CHECK((*map->find(static_cast<uint64_t>(i)))->payload == i);
}

TEST_CASE("inline and deferred growth give the same map") {
  for (MapGrowth growth : {MapGrowth::kInline, MapGrowth::kDeferred}) {
    tricolor::Runtime runtime(verified_options());
    tricolor::MutatorScope m(runtime);
    const tricolor::MapStats before = tricolor::map_stats();
    Local<IntMap> map(m, make<IntMap>(m, MapOptions{growth, 1}));
    for (uint64_t i = 0; i < 200000; ++i) map->insert_or_assign(m, i, i);
    while (map->growing()) map->insert_or_assign(m, 0, 0);  // writes finish a growth
    for (uint64_t i = 0; i < 200000; ++i) REQUIRE(map->get(i).value() == i);
    const tricolor::MapStats after = tricolor::map_stats();
    CHECK(after.growths > before.growths);
    if (growth == MapGrowth::kInline) CHECK(after.evacuated_by_workers == before.evacuated_by_workers);
  }
}

TEST_CASE("map options are checked") {
  CHECK(tricolor::parse_map_growth("inline") == MapGrowth::kInline);
  CHECK(tricolor::parse_map_growth("deferred") == MapGrowth::kDeferred);
  CHECK_THROWS_WITH_AS(tricolor::parse_map_growth("lazy"),
                       "tricolor: unknown map growth mode 'lazy' (accepted: deferred, inline)", tricolor::UsageError);
  tricolor::Runtime runtime(test::quiet_options());
  tricolor::MutatorScope m(runtime);
  CHECK_THROWS_AS(make<IntMap>(m, MapOptions{MapGrowth::kDeferred, 0}), tricolor::UsageError);
}

TEST_CASE("a value passed to a write that grows the map survives the collection the growth starts") {
  tricolor::Options options = verified_options();
  options.stress.alloc_bytes = 1;  // a collection at (nearly) every allocation
  tricolor::Runtime runtime(options);
  tricolor::MutatorScope m(runtime);
  using NodeMap = Map<uint64_t, test::Node*>;
  Local<NodeMap> map(m, make<NodeMap>(m));
  for (int64_t i = 0; i < 3000; ++i) map->insert_or_assign(m, static_cast<uint64_t>(i), make<test::Node>(m, i));
  for (int64_t i = 0; i < 3000; ++i) CHECK((*map->find(static_cast<uint64_t>(i)))->payload == i);
}
