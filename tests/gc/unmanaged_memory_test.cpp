// The collector's own memory (gc/unmanaged_memory.h): alignment and zeroing
// as asked, and a block one thread frees handed to another. Under
// ThreadSanitizer that hand-over must not read as a race: with Debian's
// mimalloc (not instrumented) it does, which is why the TSan build takes the
// memory from the C library.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../../gc/unmanaged_memory.h"

using namespace tricolor::gc;

TEST_CASE("unmanaged memory: the alignment asked for, from 8 bytes to a huge page") {
  for (size_t alignment = 8; alignment <= (size_t{2} << 20); alignment <<= 1) {
    CAPTURE(alignment);
    void* memory = unmanaged_allocate(3 * alignment + 40, alignment);
    REQUIRE(memory != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(memory) % alignment == 0);
    std::memset(memory, 0xAB, 3 * alignment + 40);  // all of it is ours
    unmanaged_free(memory);
  }
  unmanaged_free(nullptr);  // ignored
}

TEST_CASE("unmanaged memory: zeroed blocks read as zero, also where a dirty block was freed") {
  for (int round = 0; round < 64; ++round) {
    const size_t bytes = 64 + 1024 * static_cast<size_t>(round);
    auto* dirty = static_cast<unsigned char*>(unmanaged_allocate(bytes, 64));
    REQUIRE(dirty != nullptr);
    std::memset(dirty, 0xFF, bytes);
    unmanaged_free(dirty);
    auto* zeroed = static_cast<unsigned char*>(unmanaged_allocate_zeroed(bytes, 64));
    REQUIRE(zeroed != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(zeroed) % 64 == 0);
    size_t nonzero = 0;
    for (size_t i = 0; i < bytes; ++i) nonzero += zeroed[i] != 0;
    CHECK(nonzero == 0);
    unmanaged_free(zeroed);
  }
}

TEST_CASE("unmanaged memory: a container on it holds what was put in") {
  std::vector<uint64_t, UnmanagedAllocator<uint64_t>> values;
  for (uint64_t i = 0; i < 100000; ++i) values.push_back(i * 7);
  uint64_t wrong = 0;
  for (uint64_t i = 0; i < values.size(); ++i) wrong += values[i] != i * 7;
  CHECK(wrong == 0);
  CHECK(UnmanagedAllocator<int>() == UnmanagedAllocator<uint64_t>());
}

// The pattern of a sweep and a map's overflow chunk: the owner allocates and
// writes a block, another thread reads it and frees it with no further
// synchronization, the owner allocates again (getting freed blocks back)
// and writes into it. ThreadSanitizer, if it cannot see the allocator, reports the last
// write against the other thread's read (halt_on_error stops the test).
TEST_CASE("unmanaged memory: a block freed on one thread and reused on another is not a race") {
  constexpr int kRounds = 2000;
  constexpr size_t kBytes = 4096;
  std::atomic<void*> handed{nullptr};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> read_sum{0};
  std::atomic<int> freed{0};  // relaxed: lets the owner wait without ordering anything
  std::thread reader([&] {
    while (!stop.load(std::memory_order_acquire)) {
      void* block = handed.exchange(nullptr, std::memory_order_acquire);
      if (block == nullptr) {
        std::this_thread::yield();
        continue;
      }
      uint64_t sum = 0;
      for (size_t i = 0; i < kBytes; i += 64) sum += static_cast<unsigned char*>(block)[i];
      read_sum.fetch_add(sum, std::memory_order_relaxed);
      unmanaged_free(block);  // no release the owner will acquire: only the allocator orders it
      freed.fetch_add(1, std::memory_order_relaxed);
    }
  });
  uint64_t written = 0;
  size_t reused = 0;
  std::set<void*> handed_before;
  for (int round = 0; round < kRounds; ++round) {
    void* block = unmanaged_allocate(kBytes, 64);
    REQUIRE(block != nullptr);
    reused += !handed_before.insert(block).second;
    // Plain stores, one per 64 bytes where the other thread reads (TSan's
    // memset interceptor did not report this race; a plain store does).
    for (size_t i = 0; i < kBytes; i += 64) static_cast<unsigned char*>(block)[i] = 1;
    written += kBytes / 64;
    handed.store(block, std::memory_order_release);
    // Wait until it is freed (so the next allocation may get it back).
    while (freed.load(std::memory_order_relaxed) != round + 1) std::this_thread::yield();
  }
  stop.store(true, std::memory_order_release);
  reader.join();
  CHECK(read_sum.load() == written);
  const std::string allocator = unmanaged_memory_from_libc() ? "the C library" : "mimalloc";
  MESSAGE("blocks the owner got back after the other thread freed them: " << reused << " of " << kRounds << " ("
          << allocator << ")");
}
