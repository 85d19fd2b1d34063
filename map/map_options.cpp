// map_options.cpp — validating map options, and the fatal misuse report.
#include "map_options.h"

namespace tricolor {

MapGrowth parse_map_growth(std::string_view text) {
  if (text == "deferred") return MapGrowth::kDeferred;
  if (text == "inline") return MapGrowth::kInline;
  throw UsageError("tricolor: unknown map growth mode '" + std::string(text) + "' (accepted: deferred, inline)");
}

const char* to_string(MapGrowth growth) { return growth == MapGrowth::kInline ? "inline" : "deferred"; }

namespace map_detail {

MapOptions checked(MapOptions options) {
  if (options.extra_buckets_per_write < 1 || options.extra_buckets_per_write > 64)
    throw UsageError("tricolor: MapOptions::extra_buckets_per_write is " +
                     std::to_string(options.extra_buckets_per_write) + " (accepted: 1..64)");
  return options;
}

void concurrent_map_misuse(const char* what, const char* operation, const char* other) {
  std::string message = std::string(what) + " (Map::" + operation;
  if (other != nullptr) message += std::string(", while another thread is in Map::") + other;
  gc::fatal(message + ")");
}

}  // namespace map_detail
}  // namespace tricolor
