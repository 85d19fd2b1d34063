// map_options.h — per-map settings: the growth mode and the writer's quota.
//
// Owns: MapGrowth, MapOptions and their validation. Invariant: a map's
// options are fixed when it is made; extra_buckets_per_write is at least 1,
// because a growth must finish within the 2^B writes before the next one can
// be due (see map.h), whatever the background workers manage.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "../gc/errors.h"

namespace tricolor {

enum class MapGrowth : uint8_t {
  kDeferred,  // the writer evacuates its own bucket (+ extra only when behind); workers do the rest
  kInline,    // Go 1.19: the writer evacuates two buckets per write, nothing deferred
};

struct MapOptions {
  MapGrowth growth = MapGrowth::kDeferred;
  // At most this many old buckets beyond the key's own per write (1..64).
  uint32_t extra_buckets_per_write = 1;
};

// "deferred" or "inline"; throws UsageError naming the accepted values.
MapGrowth parse_map_growth(std::string_view text);
const char* to_string(MapGrowth growth);

namespace map_detail {
MapOptions checked(MapOptions options);
// Prints "tricolor: fatal: <what> (Map::<operation>, while another thread
// is in Map::<other>)" and aborts.
[[noreturn]] void concurrent_map_misuse(const char* what, const char* operation, const char* other);
}  // namespace map_detail

}  // namespace tricolor
