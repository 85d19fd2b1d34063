// map_basic_test.cpp — the managed map's operations, growth modes, options,
// misuse reports, heterogeneous lookup, SyncMap and weak keys.
#include <doctest/doctest.h>
#include <tricolor/tricolor.h>

#include <algorithm>
#include <cstring>
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

// Go's preallocation: a table of 2^B buckets (B >= 4) holds 2^(B-4) overflow
// buckets of its own, so a growing map's first overflows need no allocator
// call and touch no memory of another allocation.
TEST_CASE("a table's first overflow buckets come from its own reserve, then from chunks") {
  using TableT = tricolor::map_detail::Table<uint64_t, uint64_t>;
  CHECK(TableT::reserved_overflow(3) == 0);
  CHECK(TableT::reserved_overflow(4) == 1);
  CHECK(TableT::reserved_overflow(20) == 65536);
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  constexpr uint8_t kLog2 = 6;  // 64 buckets, a reserve of 4
  Local<TableT> table(m, tricolor::make<TableT>(m, tricolor::AdditionalBytes{TableT::extra_bytes(kLog2)}, kLog2));
  const auto reserve_begin = reinterpret_cast<uintptr_t>(table->bucket(table->bucket_count()));
  const auto states_begin = reinterpret_cast<uintptr_t>(&table->state(0));
  const auto table_end = reinterpret_cast<uintptr_t>(table.get()) + sizeof(TableT) + TableT::extra_bytes(kLog2);
  CHECK(states_begin - reserve_begin == 4 * sizeof(TableT::BucketT));
  CHECK(states_begin + table->bucket_count() <= table_end);
  for (size_t i = 0; i < table->bucket_count(); ++i) table->state(i).store(tricolor::map_detail::kDone);
  for (size_t i = 0; i < 4; ++i) {
    TableT::BucketT* bucket = table->new_overflow();
    const auto at = reinterpret_cast<uintptr_t>(bucket);
    CHECK(at == reserve_begin + i * sizeof(TableT::BucketT));
    const auto* bytes = reinterpret_cast<const unsigned char*>(bucket);
    CHECK(std::all_of(bytes, bytes + sizeof(TableT::BucketT), [](unsigned char b) { return b == 0; }));
    std::memset(bucket->tophash, 0xff, sizeof bucket->tophash);  // the states after it stay as they were
  }
  for (size_t i = 0; i < table->bucket_count(); ++i) CHECK(table->state(i).load() == tricolor::map_detail::kDone);
  const auto chunk = reinterpret_cast<uintptr_t>(table->new_overflow());  // the reserve is spent
  CHECK((chunk < reinterpret_cast<uintptr_t>(table.get()) || chunk >= table_end));
  CHECK(table->overflow_count() == 5);
  runtime.collect();  // the verifier walks the table and its chains
}

// Deferred growth of a big table: the next table is allocated at a load of 6
// and made resident by the provisioning thread; the growth starts at 6.5 only
// once it is, or after one more insert per bucket if the thread is late.
TEST_CASE("a big growth starts once its new table is resident, or when it cannot wait any longer") {
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  tricolor::gc::Provisioner& provisioner = runtime.collector().provisioner();
  Local<IntMap> map(m, make<IntMap>(m));
  REQUIRE(map->options().growth == tricolor::MapGrowth::kDeferred);
  uint64_t next = 0;
  auto insert_until = [&](uint64_t count) {
    for (; next < count; ++next) REQUIRE(map->insert_or_assign(m, next, next * 7));
  };
  auto finish_growth = [&] {
    while (map->growing()) map->insert_or_assign(m, 0, 0);  // an overwrite does a share of it
  };
  // 2^13 buckets; the next table (2^14 of 136 bytes) is big.
  constexpr uint64_t kBuckets = 8192;
  insert_until(6 * kBuckets);
  finish_growth();
  REQUIRE(map->log2_buckets() == 13);

  // The thread is late: the writes wait, then grow anyway.
  const tricolor::MapStats before = tricolor::map_stats();
  provisioner.hold_for_test(true);
  insert_until(13 * kBuckets / 2 + 1);  // past 6.5: the trigger
  CHECK_FALSE(map->growing());
  CHECK(map->log2_buckets() == 13);
  insert_until(13 * kBuckets / 2 + kBuckets);  // one insert per bucket: the last that waits
  CHECK_FALSE(map->growing());
  insert_until(13 * kBuckets / 2 + kBuckets + 1);
  CHECK(map->log2_buckets() == 14);
  CHECK(tricolor::map_stats().tables_not_prefaulted == before.tables_not_prefaulted + 1);
  CHECK(tricolor::map_stats().tables_prefaulted == before.tables_prefaulted);
  provisioner.hold_for_test(false);
  finish_growth();

  // In time: the table prepared at a load of 6 is resident when 6.5 comes.
  insert_until(6 * 2 * kBuckets + 1);
  while (provisioner.pending() != 0) std::this_thread::yield();
  insert_until(13 * kBuckets);  // 6.5 per bucket of 2^14: not over it yet
  CHECK(map->log2_buckets() == 14);
  insert_until(13 * kBuckets + 1);
  CHECK(map->log2_buckets() == 15);
  CHECK(tricolor::map_stats().tables_prefaulted == before.tables_prefaulted + 1);
  finish_growth();
  runtime.collect();
  CHECK(map->size() == next);
  for (uint64_t k = 1; k < next; ++k) REQUIRE(map->get(k).value() == k * 7);
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
