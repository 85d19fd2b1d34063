// map_stats.h — process-wide counters of the managed maps' growth work.
//
// Owns: MapStats (a snapshot) and the atomic counters the maps bump. They say
// who paid for growth — buckets evacuated by mutators inside their writes vs
// by the collector's background workers — how many growths ran, and the
// backlog of old buckets still to move. gctrace prints them per cycle.
// Invariant: counters only grow, except the backlog, which is the number of
// old buckets of growing maps not evacuated yet (0 when no map grows).
#pragma once

#include <atomic>
#include <cstdint>

namespace tricolor {

struct MapStats {
  uint64_t growths = 0;             // doubling growths started
  uint64_t same_size_growths = 0;   // regrows to shed overflow buckets
  uint64_t evacuated_by_mutators = 0;  // old buckets moved inside writes
  uint64_t evacuated_by_workers = 0;   // old buckets moved by background workers
  uint64_t evacuation_backlog = 0;     // old buckets still to move, now
  uint64_t overflow_buckets = 0;       // overflow buckets allocated
  uint64_t tables_prefaulted = 0;      // big growths whose new table was resident when they started
  uint64_t tables_not_prefaulted = 0;  // big growths that could not wait for it any longer
  uint64_t iterator_polls = 0;         // safepoint polls made by iterators
};

MapStats map_stats();

namespace map_detail {
struct MapCounters {
  std::atomic<uint64_t> growths{0};
  std::atomic<uint64_t> same_size_growths{0};
  std::atomic<uint64_t> evacuated_by_mutators{0};
  std::atomic<uint64_t> evacuated_by_workers{0};
  std::atomic<int64_t> evacuation_backlog{0};
  std::atomic<uint64_t> overflow_buckets{0};
  std::atomic<uint64_t> tables_prefaulted{0};
  std::atomic<uint64_t> tables_not_prefaulted{0};
  std::atomic<uint64_t> iterator_polls{0};
};
MapCounters& counters();
inline void count(std::atomic<uint64_t>& counter, uint64_t n = 1) { counter.fetch_add(n, std::memory_order_relaxed); }
}  // namespace map_detail

}  // namespace tricolor
