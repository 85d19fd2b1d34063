// hash.h — the map's default hash functions and the per-map seed.
//
// Owns: MapHash<K> (integers and pointers through a fast multiply-xorshift
// mixer, byte strings through XXH3 from Debian's libxxhash) and
// random_map_seed(). Invariant: every hash takes the map's seed, which is
// random per map, so neither the bucket layout nor the iteration order can be
// predicted, and collisions cannot be forced from outside.
// A custom hash is a functor `uint64_t operator()(const K&, uint64_t seed)`;
// for heterogeneous lookup (find a string key by a string_view) it also
// accepts the probe type, and the equality functor compares both ways.
#pragma once

#include <xxhash.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "slot_traits.h"

namespace tricolor {

// Bytes through XXH3 (64-bit, seeded).
inline uint64_t hash_bytes(const void* data, size_t size, uint64_t seed) {
  return XXH3_64bits_withSeed(data, size, seed);
}

// A 64-bit word through a seeded mixer (the finalizer of SplitMix64, after
// adding the seed): every input bit affects every output bit.
inline uint64_t hash_word(uint64_t word, uint64_t seed) {
  uint64_t z = word + seed + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

template <class K>
struct MapHash;

template <class K>
  requires std::integral<K> || std::is_enum_v<K>
struct MapHash<K> {
  uint64_t operator()(K key, uint64_t seed) const { return hash_word(static_cast<uint64_t>(key), seed); }
};

template <class T>
struct MapHash<T*> {
  uint64_t operator()(const T* key, uint64_t seed) const { return hash_word(reinterpret_cast<uintptr_t>(key), seed); }
};

template <class T>
struct MapHash<Weak<T>> {
  uint64_t operator()(Weak<T> key, uint64_t seed) const { return hash_word(reinterpret_cast<uintptr_t>(key.get()), seed); }
  uint64_t operator()(const T* key, uint64_t seed) const { return hash_word(reinterpret_cast<uintptr_t>(key), seed); }
};

template <>
struct MapHash<std::string_view> {
  uint64_t operator()(std::string_view key, uint64_t seed) const { return hash_bytes(key.data(), key.size(), seed); }
};

// A fresh random seed (per thread: a generator seeded once from the OS).
uint64_t random_map_seed();

}  // namespace tricolor
