// work_queue.cpp — the lock-free packet lists (see work_queue.h).
#include "work_queue.h"

#include <algorithm>
#include <new>
#include <vector>

#include "errors.h"
#include "unmanaged_memory.h"

namespace tricolor::gc {
namespace {
constexpr uint64_t kTagUnit = uint64_t{1} << 48;
}

void PacketStack::push(WorkPacket* packet) {
  uint64_t head = head_.load(std::memory_order_relaxed);
  for (;;) {
    packet->next.store(pointer_of(head), std::memory_order_relaxed);
    const uint64_t next = ((head & ~(kTagUnit - 1)) + kTagUnit) | reinterpret_cast<uint64_t>(packet);
    if (head_.compare_exchange_weak(head, next, std::memory_order_release, std::memory_order_relaxed)) return;
  }
}

WorkPacket* PacketStack::pop() {
  uint64_t head = head_.load(std::memory_order_acquire);
  for (;;) {
    WorkPacket* top = pointer_of(head);
    if (top == nullptr) return nullptr;
    WorkPacket* below = top->next.load(std::memory_order_relaxed);
    const uint64_t next = ((head & ~(kTagUnit - 1)) + kTagUnit) | reinterpret_cast<uint64_t>(below);
    if (head_.compare_exchange_weak(head, next, std::memory_order_acquire, std::memory_order_acquire))
      return top;
  }
}

// Every packet also sits on a private chain through its first allocation
// link, so the destructor frees them whichever list they are in.
struct MarkQueue::Chunk {
  WorkPacket packet;
  Chunk* older;
};

MarkQueue::~MarkQueue() {
  auto* chunk = reinterpret_cast<Chunk*>(all_.load(std::memory_order_acquire));
  while (chunk != nullptr) {
    Chunk* older = chunk->older;
    chunk->~Chunk();
    unmanaged_free(chunk);
    chunk = older;
  }
}

WorkPacket* MarkQueue::take_empty() {
  if (WorkPacket* packet = empty_.pop()) {
    empty_count_.fetch_sub(1, std::memory_order_relaxed);
    return packet;
  }
  return allocate_packet();
}

void MarkQueue::replenish_empty() {
  const size_t spare = std::max(kMinSpareEmpty, allocated_.load(std::memory_order_relaxed) / kSpareShare);
  while (empty_count() < spare) put_empty(allocate_packet());
}

// A new packet, every byte written (Chunk{} zero-fills it) by the caller.
WorkPacket* MarkQueue::allocate_packet() {
  void* memory = unmanaged_allocate(sizeof(Chunk), alignof(Chunk));
  if (memory == nullptr) throw HeapExhausted("tricolor: out of memory for mark work packets");
  auto* chunk = new (memory) Chunk{};
  auto* head = all_.load(std::memory_order_relaxed);
  do {
    chunk->older = reinterpret_cast<Chunk*>(head);
  } while (!all_.compare_exchange_weak(head, &chunk->packet, std::memory_order_acq_rel));
  allocated_.fetch_add(1, std::memory_order_relaxed);
  return &chunk->packet;
}

void MarkQueue::put_empty(WorkPacket* packet) {
  packet->count = 0;
  empty_.push(packet);
  empty_count_.fetch_add(1, std::memory_order_relaxed);
}

void MarkQueue::put_full(WorkPacket* packet) {
  full_count_.fetch_add(1, std::memory_order_release);
  full_.push(packet);
}

WorkPacket* MarkQueue::take_full() {
  WorkPacket* packet = full_.pop();
  if (packet != nullptr) full_count_.fetch_sub(1, std::memory_order_acq_rel);
  return packet;
}

}  // namespace tricolor::gc
