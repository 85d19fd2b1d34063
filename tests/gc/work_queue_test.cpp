// work_queue_test.cpp — the mark queue's packet lists: full and empty
// packets are exchanged without loss or duplication under concurrent use,
// empty packets are reused before new ones are allocated, and
// replenish_empty keeps its spare share of empty packets ready (so that the
// thread that calls it, not a mutator, allocates and first touches them);
// background markers call it.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "../../gc/heap.h"
#include "../../gc/marker.h"
#include "../../gc/work_queue.h"

using namespace tricolor::gc;

TEST_CASE("an empty packet put back is reused before a new one is allocated") {
  MarkQueue queue;
  WorkPacket* first = queue.take_empty();
  CHECK(queue.packets_allocated() == 1);
  CHECK(first->empty());
  first->objects[first->count++] = first;
  queue.put_empty(first);
  CHECK(queue.empty_count() == 1);
  WorkPacket* again = queue.take_empty();
  CHECK(again == first);
  CHECK(again->empty());  // put_empty cleared it
  CHECK(queue.packets_allocated() == 1);
  CHECK(queue.empty_count() == 0);
  queue.put_empty(again);
}

TEST_CASE("replenish_empty keeps a spare share of empty packets, allocated by its caller") {
  MarkQueue queue;
  queue.replenish_empty();
  CHECK(queue.empty_count() == MarkQueue::kMinSpareEmpty);
  CHECK(queue.packets_allocated() == MarkQueue::kMinSpareEmpty);
  // Taking the spares allocates nothing.
  std::vector<WorkPacket*> taken;
  for (size_t i = 0; i < MarkQueue::kMinSpareEmpty; ++i) taken.push_back(queue.take_empty());
  CHECK(queue.packets_allocated() == MarkQueue::kMinSpareEmpty);
  CHECK(queue.empty_count() == 0);
  for (WorkPacket* packet : taken) CHECK(packet->empty());
  // With every packet in use, the spares come back: 64 more.
  queue.replenish_empty();
  CHECK(queue.empty_count() == MarkQueue::kMinSpareEmpty);
  CHECK(queue.packets_allocated() == 2 * MarkQueue::kMinSpareEmpty);
  // Spares already there: nothing more.
  queue.replenish_empty();
  CHECK(queue.packets_allocated() == 2 * MarkQueue::kMinSpareEmpty);
  // Past 8 * 64 packets the spare share is an eighth of them.
  for (size_t i = 0; i < 1000; ++i) taken.push_back(queue.take_empty());
  const size_t allocated_before = queue.packets_allocated();
  CHECK(queue.empty_count() == 0);
  queue.replenish_empty();
  const size_t spare = queue.empty_count();
  CHECK(spare == allocated_before / MarkQueue::kSpareShare);
  CHECK(spare == queue.packets_allocated() - allocated_before);
  CHECK(spare > MarkQueue::kMinSpareEmpty);
  for (WorkPacket* packet : taken) queue.put_empty(packet);
}

TEST_CASE("full packets are taken in LIFO order and counted") {
  MarkQueue queue;
  CHECK(queue.take_full() == nullptr);
  WorkPacket* a = queue.take_empty();
  WorkPacket* b = queue.take_empty();
  a->objects[a->count++] = a;
  b->objects[b->count++] = b;
  queue.put_full(a);
  queue.put_full(b);
  CHECK(queue.full_count() == 2);
  CHECK(queue.take_full() == b);
  CHECK(queue.take_full() == a);
  CHECK(queue.take_full() == nullptr);
  CHECK(queue.full_count() == 0);
  queue.put_empty(a);
  queue.put_empty(b);
}

// Four threads move packets between the two lists as markers do; each packet
// carries its own address, so a packet seen twice or lost shows up.
TEST_CASE("packets exchanged by concurrent threads are neither lost nor duplicated") {
  MarkQueue queue;
  constexpr int kThreads = 4;
  constexpr int kRounds = 50000;
  queue.replenish_empty();
  std::atomic<bool> corrupt{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        if (i % 2 == 0) {
          WorkPacket* packet = queue.take_empty();
          if (!packet->empty()) corrupt = true;
          packet->objects[packet->count++] = packet;
          queue.put_full(packet);
        } else if (WorkPacket* packet = queue.take_full()) {
          if (packet->count != 1 || packet->objects[0] != packet) corrupt = true;
          queue.put_empty(packet);
        }
      }
    });
  for (auto& thread : threads) thread.join();
  CHECK_FALSE(corrupt.load());
  // Every packet is in exactly one list now.
  std::set<const WorkPacket*> seen;
  size_t full = 0;
  while (WorkPacket* packet = queue.take_full()) {
    CHECK(seen.insert(packet).second);
    ++full;
    queue.put_empty(packet);
  }
  CHECK(queue.full_count() == 0);
  std::vector<WorkPacket*> empties;
  for (size_t i = 0, n = queue.empty_count(); i < n; ++i) {
    WorkPacket* packet = queue.take_empty();
    empties.push_back(packet);
  }
  std::set<const WorkPacket*> distinct(empties.begin(), empties.end());
  CHECK(distinct.size() == empties.size());
  CHECK(empties.size() == queue.packets_allocated());
  CHECK(full <= empties.size());
  for (WorkPacket* packet : empties) queue.put_empty(packet);
}

// The spares are kept by background markers (between their slices), never
// by a mutator's assist or barrier flush: those should find them ready.
TEST_CASE("a background marker's drain tops up the spare packets; another marker's does not") {
  Heap heap;
  MarkShared shared;
  {
    Marker assist(heap, shared, /*exclusive=*/false);
    CHECK(assist.drain());
    CHECK(shared.queue.packets_allocated() == 0);
  }
  Marker background(heap, shared, /*exclusive=*/false);
  CHECK(background.drain_as_background());
  CHECK(shared.queue.empty_count() == MarkQueue::kMinSpareEmpty);
  CHECK(shared.queue.packets_allocated() == MarkQueue::kMinSpareEmpty);
}
