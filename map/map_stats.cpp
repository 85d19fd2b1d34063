// map_stats.cpp — the process-wide map counters (see map_stats.h).
#include "map_stats.h"

namespace tricolor {

namespace map_detail {
MapCounters& counters() {
  static MapCounters instance;
  return instance;
}
}  // namespace map_detail

MapStats map_stats() {
  const map_detail::MapCounters& c = map_detail::counters();
  MapStats s;
  s.growths = c.growths.load(std::memory_order_relaxed);
  s.same_size_growths = c.same_size_growths.load(std::memory_order_relaxed);
  s.evacuated_by_mutators = c.evacuated_by_mutators.load(std::memory_order_relaxed);
  s.evacuated_by_workers = c.evacuated_by_workers.load(std::memory_order_relaxed);
  const int64_t backlog = c.evacuation_backlog.load(std::memory_order_relaxed);
  s.evacuation_backlog = backlog > 0 ? static_cast<uint64_t>(backlog) : 0;
  s.overflow_buckets = c.overflow_buckets.load(std::memory_order_relaxed);
  s.tables_prefaulted = c.tables_prefaulted.load(std::memory_order_relaxed);
  s.tables_not_prefaulted = c.tables_not_prefaulted.load(std::memory_order_relaxed);
  s.iterator_polls = c.iterator_polls.load(std::memory_order_relaxed);
  return s;
}

}  // namespace tricolor
