// map_weak_test.cpp — maps with Weak<T> keys: an intern table whose strings
// die when nothing else holds them (found by content, heterogeneous lookup),
// and ephemeron entries whose value lives only through its key.
#include <doctest/doctest.h>
#include <tricolor/tricolor.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "map_test_types.h"

using namespace test;
using tricolor::Weak;

namespace {

// A managed string with inline characters.
struct Str {
  static constexpr bool kHasNoPointers = true;
  size_t length;
  explicit Str(std::string_view text) : length(text.size()) { std::memcpy(chars(), text.data(), text.size()); }
  char* chars() { return reinterpret_cast<char*>(this + 1); }
  std::string_view view() const { return {reinterpret_cast<const char*>(this + 1), length}; }
};

Str* make_str(tricolor::Mutator& m, std::string_view text) {
  return make<Str>(m, tricolor::AdditionalBytes{text.size()}, text);
}

// Hash and equality by content, for stored Weak<Str> keys and string_view probes.
struct StrHash {
  uint64_t operator()(Weak<Str> key, uint64_t seed) const { return (*this)(key.get()->view(), seed); }
  uint64_t operator()(std::string_view text, uint64_t seed) const { return tricolor::hash_bytes(text.data(), text.size(), seed); }
};
struct StrEq {
  bool operator()(Weak<Str> a, Weak<Str> b) const { return a.get()->view() == b.get()->view(); }
  bool operator()(Weak<Str> a, std::string_view b) const { return a.get()->view() == b; }
};

using InternTable = Map<Weak<Str>, uint64_t, StrHash, StrEq>;

}  // namespace

TEST_CASE("an intern table forgets strings that nothing else holds") {
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  Local<InternTable> table(m, make<InternTable>(m));
  std::vector<tricolor::Persistent<Str>> kept;
  constexpr int kStrings = 4000;
  for (int i = 0; i < kStrings; ++i) {
    const std::string text = "string-" + std::to_string(i);
    Str* s = make_str(m, text);
    if (i % 4 == 0) kept.emplace_back(s);
    table->insert_or_assign(m, s, static_cast<uint64_t>(i));
  }
  for (int i = 0; i < kStrings; ++i) REQUIRE(table->contains(std::string_view("string-" + std::to_string(i))));
  runtime.collect();
  runtime.collect();
  for (int i = 0; i < kStrings; ++i) {
    const std::string text = "string-" + std::to_string(i);
    CAPTURE(text);
    const std::optional<uint64_t> value = table->get(std::string_view(text));
    CHECK(value.has_value() == (i % 4 == 0));
    if (value) CHECK(*value == static_cast<uint64_t>(i));
  }
  size_t visited = 0;
  for (auto [key, value] : table->entries(m)) {
    CHECK(key.get()->view() == "string-" + std::to_string(value));
    CHECK(value % 4 == 0);
    ++visited;
  }
  CHECK(visited == kStrings / 4);
  // Writes reuse the slots of dead entries, and growth drops them: the count
  // comes back to the live entries once a growth has passed over them.
  for (int i = 0; i < 4 * kStrings; ++i) {
    Str* s = make_str(m, "again-" + std::to_string(i));
    kept.emplace_back(s);
    table->insert_or_assign(m, s, 0);
  }
  while (table->growing()) table->insert_or_assign(m, kept.front().get(), 0);
  CHECK(table->size() == kept.size());
}

TEST_CASE("ephemeron entries: a value lives only through its key, even when it points back at it") {
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  using Side = Map<Weak<test::Counted>, test::Counted*>;
  Local<Side> side(m, make<Side>(m));
  test::Counted::reset();
  std::vector<tricolor::Persistent<test::Counted>> keys;
  for (int i = 0; i < 1000; ++i) {
    test::Counted* key = make<test::Counted>(m, i);
    Local<test::Counted> rooted(m, key);
    test::Counted* value = make<test::Counted>(m, 10'000 + i);
    value->next = key;  // the value points back at its key
    if (i % 2 == 0) keys.emplace_back(key);
    side->insert_or_assign(m, key, value);
  }
  runtime.collect();
  runtime.collect();
  // Odd keys had no other holder: key and value both died.
  CHECK(test::Counted::live.load() == 1000);
  for (auto& key : keys) {
    const std::optional<test::Counted*> value = side->get(Weak<test::Counted>(key.get()));
    REQUIRE(value.has_value());
    CHECK((*value)->id == 10'000 + key->id);
    CHECK((*value)->next.get() == key.get());
  }
}

TEST_CASE("an entry whose key died keeps no value, which every verified cycle checks") {
  // A dead key's value slot, left pointing at the swept value, would be
  // shaded as an old target by the next write into the entry while marking.
  tricolor::Runtime runtime(verified_options());
  tricolor::MutatorScope m(runtime);
  using Side = Map<Weak<test::Counted>, test::Counted*>;
  Local<Side> side(m, make<Side>(m));
  test::Counted::reset();
  constexpr int kEntries = 2000;
  for (int i = 0; i < kEntries; ++i) {
    Local<test::Counted> key(m, make<test::Counted>(m, i));
    side->insert_or_assign(m, key.get(), make<test::Counted>(m, kEntries + i));
  }
  runtime.collect();  // every key dies, and its value with it
  CHECK(test::Counted::live.load() == 0);
  runtime.collect();  // the verifier walks the table: a keyless entry with a value is fatal
  // New entries reuse the dead entries' slots, overwriting what they hold.
  std::vector<tricolor::Persistent<test::Counted>> keys;
  for (int i = 0; i < kEntries; ++i) {
    keys.emplace_back(make<test::Counted>(m, i));
    side->insert_or_assign(m, keys.back().get(), make<test::Counted>(m, kEntries + i));
  }
  runtime.collect();
  CHECK(test::Counted::live.load() == 2 * kEntries);
  for (auto& key : keys) {
    const std::optional<test::Counted*> value = side->get(Weak<test::Counted>(key.get()));
    REQUIRE(value.has_value());
    CHECK((*value)->id == kEntries + key->id);
  }
}
