// map_fuzz.cpp — a libFuzzer target for the managed map: the input bytes are
// decoded into an operation sequence on one small map and run through the
// model driver of map_model.h (the same checks as the map_model suite).
//
// Input: byte 0 chooses the kind of map and its options, byte 1 the key
// universe; then one byte per operation (map_model::Driver::decode_op: mostly
// inserts, erasures and lookups; rare codes force a collection, clear,
// reserve or iterate, with or without writes between the steps) and its
// arguments. One Runtime for the process (verifier on, a small heap goal so
// that the pacer collects too); TRICOLOR_MODE chooses the collector.
// A mismatch prints the driver's report and aborts (libFuzzer saves the
// input). Replaying a saved input replays the operations, not the map's hash
// seed or the collector's timing.
// Built only with clang (tests/meson.build); scripts/test runs it for 30 s:
//   CXX=clang++ meson setup build-fuzz -Dbenchmarks=false && ninja -C build-fuzz tests/map_fuzz
//   ASAN_OPTIONS=detect_leaks=0 build-fuzz/tests/map_fuzz -detect_leaks=0 -max_total_time=30 build-fuzz/map_fuzz-corpus
// (without leak checks: LeakSanitizer does not scan the collector's heap, so
// memory only managed objects point to, such as a map table's list of
// overflow chunks, looks leaked).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "map_model.h"

namespace {

using map_model::ByteChoices;

struct Process {
  tricolor::Runtime runtime;
  tricolor::MutatorScope mutator;
  static tricolor::Options options() {
    tricolor::Options o = test::quiet_options();
    o.verify = true;
    o.min_heap_bytes = 256 << 10;
    return o;
  }
  Process() : runtime(options()), mutator(runtime) {}
};

// Created on the first input, on the fuzzing thread; destroyed at exit.
Process& process() {
  static Process p;
  return p;
}

template <class Kind>
void run(ByteChoices& bytes, tricolor::MapOptions options, const map_model::Profile& profile,
         uint32_t writes_per_step) {
  Process& p = process();
  map_model::Driver<Kind, ByteChoices> driver(p.runtime, p.mutator, bytes, "map_fuzz");
  driver.start_map(options, profile);
  driver.run_decoded(writes_per_step);
  driver.full_check();
  if (driver.failed()) {
    std::fprintf(stderr, "map_fuzz: model mismatch (TRICOLOR_MODE=%s):\n%s\n",
                 p.runtime.options().concurrent ? "concurrent" : "stw", driver.failure().c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  ByteChoices bytes(data, size);
  // Byte 0: kind (bits 0-1), growth mode (bit 2), writer quota (bit 3),
  // writes between iteration steps (bits 4-5), size limit (bits 6-7).
  const uint8_t header = bytes.byte();
  // Byte 1: the universe, 4 .. 2^16 keys (small ones most of the time).
  const uint8_t shape = bytes.byte();
  tricolor::MapOptions options;
  options.growth = (header & 4) != 0 ? tricolor::MapGrowth::kInline : tricolor::MapGrowth::kDeferred;
  options.extra_buckets_per_write = (header & 8) != 0 ? 1 + shape / 64 : 1;
  map_model::Profile profile;
  profile.universe = uint64_t{1} << (2 + shape % 15);
  static constexpr uint64_t kMaxSizes[] = {0, 13, 26, 52};  // 0: none; else 6.5 × 2^B (churn at a constant size)
  profile.max_size = kMaxSizes[header >> 6];
  profile.target = profile.max_size != 0 ? profile.max_size : profile.universe;
  const uint32_t writes_per_step = (header >> 4) & 3;
  switch (header & 3) {
    case 0: run<map_model::IntKind>(bytes, options, profile, writes_per_step); break;
    case 1: run<map_model::NodeKind>(bytes, options, profile, writes_per_step); break;
    case 2: run<map_model::StrKind>(bytes, options, profile, writes_per_step); break;
    default: run<map_model::CollidingKind>(bytes, options, profile, writes_per_step); break;
  }
  return 0;
}
