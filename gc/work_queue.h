// work_queue.h — mark work: packets of grey objects and the global queue.
//
// Owns: WorkPacket (a fixed array of grey object pointers) and MarkQueue, the
// global lists of full and empty packets that markers (background workers,
// assisting mutators, barrier flushes) exchange work through. Grey, for this
// structure, means: mark bit set and the pointer sits in some packet (a
// marker's local one or a full one here), its fields not yet visited.
// Invariants:
//  - a packet is owned by exactly one marker or sits in exactly one list;
//  - packets are never freed while the queue lives, so a lock-free pop may
//    read a packet's `next` after another thread took it (the 16-bit tag in
//    the list head defeats ABA);
//  - termination: grey objects live only here, in busy markers' local
//    packets and in mutators' barrier buffers; the collector's termination
//    rounds check all three (collector.cpp, try_end_mark).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tricolor::gc {

struct WorkPacket {
  static constexpr size_t kCapacity = 509;
  std::atomic<WorkPacket*> next{nullptr};
  size_t count = 0;
  const void* objects[kCapacity];

  bool empty() const { return count == 0; }
  bool full() const { return count == kCapacity; }
};

// A lock-free LIFO of packets (Treiber stack) with an ABA tag in the head's
// top 16 bits (user-space addresses fit in 48 bits).
class PacketStack {
 public:
  void push(WorkPacket* packet);
  WorkPacket* pop();
  bool empty() const { return pointer_of(head_.load(std::memory_order_acquire)) == nullptr; }
  // Every packet in the stack, top first. Only while no one pushes or pops
  // (the invariant check of a stepped cycle, gc/verifier.h).
  template <class Visit>
  void for_each_quiescent(Visit&& visit) const {
    for (WorkPacket* p = pointer_of(head_.load(std::memory_order_acquire)); p != nullptr;
         p = p->next.load(std::memory_order_relaxed))
      visit(*p);
  }

 private:
  static WorkPacket* pointer_of(uint64_t head) {
    return reinterpret_cast<WorkPacket*>(head & ((uint64_t{1} << 48) - 1));
  }
  std::atomic<uint64_t> head_{0};
};

class MarkQueue {
 public:
  // The spare empty packets replenish_empty() keeps: an eighth of those
  // allocated, at least 64 (256 KiB).
  static constexpr size_t kMinSpareEmpty = 64;
  static constexpr size_t kSpareShare = 8;

  MarkQueue() = default;
  MarkQueue(const MarkQueue&) = delete;
  MarkQueue& operator=(const MarkQueue&) = delete;
  ~MarkQueue();

  WorkPacket* take_empty();             // an empty packet (allocated on demand)
  void put_empty(WorkPacket* packet);
  // Called by background markers between slices: while fewer than a spare
  // share of the packets allocated so far (at least kMinSpareEmpty) are
  // empty, allocates more, so that a mutator's barrier flush or assist
  // rarely allocates one. The caller writes every byte of the new packets:
  // their pages become resident on its thread, not on a mutator's (a 4 KiB
  // first touch costs a mutator 7-11 µs on this project's VM, RESULTS.md).
  void replenish_empty();
  size_t empty_count() const { return empty_count_.load(std::memory_order_relaxed); }
  void put_full(WorkPacket* packet);    // any non-empty packet
  WorkPacket* take_full();              // null when there is none
  size_t full_count() const { return full_count_.load(std::memory_order_acquire); }
  size_t packets_allocated() const { return allocated_.load(std::memory_order_relaxed); }
  // Every entry of every full packet; only while no marker runs.
  template <class Visit>
  void for_each_full_entry_quiescent(Visit&& visit) const {
    full_.for_each_quiescent([&](const WorkPacket& packet) {
      for (size_t i = 0; i < packet.count; ++i) visit(packet.objects[i]);
    });
  }

 private:
  PacketStack full_;
  PacketStack empty_;
  std::atomic<size_t> full_count_{0};
  std::atomic<size_t> allocated_{0};
  std::atomic<size_t> empty_count_{0};
  std::atomic<WorkPacket*> all_{nullptr};  // every packet, for the destructor
  struct Chunk;
  WorkPacket* allocate_packet();
};

}  // namespace tricolor::gc
