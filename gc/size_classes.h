// size_classes.h — the small-object size classes and the span geometry.
//
// Owns: the table of slot sizes (every small object is rounded up to one of
// them) and the O(1) size → class lookup used by the allocation fast path.
// The classes follow Go's spacing (fine steps for small sizes, ~12.5 % steps
// above) adapted to a single 64 KiB span for every class.
// Invariants (checked by tests/gc/heap_test.cpp): every slot size is a
// multiple of 8, so payloads after the 8-byte header stay 8-aligned; every
// class wastes at most 12.5 % of its span; sizes above kMaxSmallBytes get a
// large-object span of their own; above 1024 bytes every class is a multiple
// of 128, the step of the second lookup table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tricolor::gc {

inline constexpr size_t kSpanShift = 16;
inline constexpr size_t kSpanBytes = size_t{1} << kSpanShift;  // 64 KiB
inline constexpr size_t kMinSlotBytes = 16;
inline constexpr size_t kMaxSlotsPerSpan = kSpanBytes / kMinSlotBytes;  // 4096
inline constexpr size_t kMaxSmallBytes = 32 * 1024;

inline constexpr uint32_t kSlotBytes[] = {
    16,   24,   32,   40,   48,   64,   80,    96,    112,   128,  //
    144,  160,  192,  224,  256,  288,  320,   384,   448,   512,  //
    576,  640,  768,  896,  1024, 1152, 1280,  1536,  1792,  2048,  //
    2560, 3072, 4096, 5376, 6528, 8192, 10880, 13056, 16384, 21760, 32768};
inline constexpr size_t kNumSizeClasses = sizeof(kSlotBytes) / sizeof(kSlotBytes[0]);

struct SizeClass {
  uint32_t slot_bytes;
  uint32_t slots_per_span;
  // offset * divide_magic >> 32 == offset / slot_bytes for every offset below
  // kSpanBytes: magic = ceil(2^32 / size) and the rounding error
  // offset * (magic * size - 2^32) / 2^32 stays below one slot.
  uint64_t divide_magic;
};

inline constexpr std::array<SizeClass, kNumSizeClasses> kSizeClasses = [] {
  std::array<SizeClass, kNumSizeClasses> table{};
  for (size_t i = 0; i < kNumSizeClasses; ++i) {
    const uint64_t size = kSlotBytes[i];
    table[i] = SizeClass{kSlotBytes[i], static_cast<uint32_t>(kSpanBytes / size),
                         ((uint64_t{1} << 32) + size - 1) / size};
  }
  return table;
}();

// Class index for `bytes` (1 ≤ bytes ≤ kMaxSmallBytes) by linear search; the
// tables below precompute it.
constexpr uint8_t size_class_by_search(size_t bytes) {
  uint8_t cls = 0;
  while (kSlotBytes[cls] < bytes) ++cls;
  return cls;
}

namespace detail {
inline constexpr auto kClassBy8 = [] {  // bytes ≤ 1024 in steps of 8
  std::array<uint8_t, 1024 / 8 + 1> table{};
  for (size_t i = 0; i < table.size(); ++i) table[i] = size_class_by_search(i * 8);
  return table;
}();
inline constexpr auto kClassBy128 = [] {  // bytes ≤ kMaxSmallBytes in steps of 128
  std::array<uint8_t, kMaxSmallBytes / 128 + 1> table{};
  for (size_t i = 0; i < table.size(); ++i) table[i] = size_class_by_search(i * 128);
  return table;
}();
}  // namespace detail

// O(1): two table loads at most. Requires 1 ≤ bytes ≤ kMaxSmallBytes.
inline uint8_t size_class_index(size_t bytes) {
  if (bytes <= 1024) return detail::kClassBy8[(bytes + 7) >> 3];
  return detail::kClassBy128[(bytes + 127) >> 7];
}

}  // namespace tricolor::gc
