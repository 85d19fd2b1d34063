// map_test_types.h — what the map test suites share: the names they use,
// the integer map, and runtime options with the heap verifier on.
#pragma once

#include <tricolor/tricolor.h>

#include "../gc/test_types.h"

namespace test {

using tricolor::Local;
using tricolor::make;
using tricolor::Map;
using tricolor::MapGrowth;
using tricolor::MapOptions;

using IntMap = Map<uint64_t, uint64_t>;

// The suite's collector mode (TRICOLOR_MODE), verifying every collection.
inline tricolor::Options verified_options() {
  tricolor::Options o = quiet_options();
  o.verify = true;
  return o;
}

}  // namespace test
