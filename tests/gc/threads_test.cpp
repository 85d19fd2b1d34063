// threads_test.cpp — several mutators allocating and linking while
// collections happen; BlockingRegion; the stop protocol's time-to-safepoint
// and pause records; API misuse across threads.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "../../gc/collector.h"
#include "test_types.h"

using namespace tricolor;
using test::Node;

namespace {
// Builds a list of `length` nodes with payloads base..base+length-1.
int64_t list_sum(const Node* n) {
  int64_t sum = 0;
  for (; n != nullptr; n = n->left) sum += n->payload;
  return sum;
}
}  // namespace

TEST_CASE("mutator threads allocate and link objects while collections happen") {
  Options options = test::quiet_options();
  options.min_heap_bytes = 1 << 20;  // collect often
  Runtime rt{options};
  constexpr int kThreads = 4;
  constexpr int kRounds = 300;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      MutatorScope m(rt);
      Persistent<Node> head;
      for (int round = 0; round < kRounds; ++round) {
        head.reset();
        for (int i = 0; i < 500; ++i) {
          Node* n = make<Node>(m, t * 1000000 + i);
          n->left = head.get();
          n->right = make<Node>(m, -1);  // a second, short-lived edge
          head = n;
          m.safepoint();
        }
        const int64_t expected = 500 * int64_t{t * 1000000} + 499 * 500 / 2;
        if (list_sum(head.get()) != expected) failures.fetch_add(1);
        if (round % 50 == 0) rt.collect();
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  const Stats s = rt.stats();
  CHECK(s.collections > 10);
  if (rt.options().concurrent) {
    // No global pause at all: only the handshakes each mutator answered
    // itself (barrier on, roots, buffer flushes, end of mark).
    CHECK(s.global_pause_ns.count() == 0);
    CHECK(s.pause_ns.count() >= s.collections);
  } else {
    CHECK(s.global_pause_ns.count() == s.collections);
    CHECK(s.pause_ns.count() == s.collections);
    CHECK(s.pause_ns.max() >= s.ttsp_ns.max());  // a stop's pause includes its ttsp
  }
  CHECK(s.ttsp_ns.count() == s.pause_ns.count());
  CHECK(s.mutators == 0);
}

TEST_CASE("a thread inside a BlockingRegion does not hold a collection back") {
  Runtime rt{test::quiet_options()};
  std::atomic<bool> blocked{false};
  std::atomic<bool> release{false};
  std::thread sleeper([&] {
    MutatorScope m(rt);
    Persistent<Node> kept{make<Node>(m, 42)};
    {
      BlockingRegion region(m);
      blocked = true;
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(kept->payload == 42);  // its roots were scanned while it was blocked
    m.safepoint();
  });
  while (!blocked) std::this_thread::yield();
  {
    MutatorScope m(rt);
    for (int i = 0; i < 3; ++i) rt.collect();  // would hang if it waited for the sleeper
  }
  CHECK(rt.stats().collections >= 3);
  release = true;
  sleeper.join();
}

TEST_CASE("a mutator that polls late is waited for, and the wait is time-to-safepoint") {
  Runtime rt{test::quiet_options()};
  std::atomic<bool> started{false};
  std::atomic<bool> stop{false};
  std::thread spinner([&] {
    MutatorScope m(rt);
    started = true;
    while (!stop) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
      while (std::chrono::steady_clock::now() < until) {
      }  // 20 ms without a poll
      m.safepoint();
    }
  });
  while (!started) std::this_thread::yield();
  rt.collect();
  stop = true;
  spinner.join();
  const Stats s = rt.stats();
  REQUIRE(s.collections >= 1);
  // The spinner polls every 20 ms, so stops and handshakes waited up to that
  // long. (A lower bound can't be asserted: a request may come right before a
  // poll.) A global pause includes its time-to-safepoint; a handshake's pause
  // is only the work the mutator did, its ttsp was spent running.
  if (rt.options().concurrent) {
    CHECK(s.global_pause_ns.count() == 0);
    CHECK(s.ttsp_ns.count() > 0);
  } else {
    CHECK(s.global_pause_ns.max() >= s.ttsp_ns.min());
    CHECK(s.ttsp_ns.max() <= s.pause_ns.max());
  }
  CHECK(s.ttsp_ns.max() < 5'000'000'000ull);
}

TEST_CASE("a handshake answered just before the next one is requested still has its own time to safepoint") {
  Runtime rt{test::quiet_options()};
  if (!rt.options().concurrent) return;  // handshakes are the concurrent collector's
  // The first answer waits, after clearing its pending flag, until the
  // collector has requested the next handshake; the time recorded for it
  // must still be measured from its own request (it was read after the
  // flag was cleared: the next request's time, later than the answer).
  std::atomic<bool> delayed{false};
  std::atomic<bool> saw_next_request{false};
  rt.collector().world().set_after_answer_hook_for_test([&](tricolor::Mutator& m) {
    if (delayed.exchange(true)) return;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!m.safepoint_requested() && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    saw_next_request = m.safepoint_requested();
  });
  std::atomic<bool> started{false};
  std::atomic<bool> stop{false};
  std::thread poller([&] {
    MutatorScope m(rt);
    started = true;
    while (!stop) m.safepoint();
  });
  while (!started) std::this_thread::yield();
  rt.collect();
  stop = true;
  poller.join();
  rt.collector().world().set_after_answer_hook_for_test(nullptr);
  REQUIRE(delayed.load());
  CHECK(saw_next_request.load());
  CHECK(rt.stats().ttsp_ns.max() < 5'000'000'000ull);
}

TEST_CASE("API misuse is a named error") {
  Runtime rt{test::quiet_options()};
  SUBCASE("a second Runtime") { CHECK_THROWS_AS(Runtime{test::quiet_options()}, UsageError); }
  SUBCASE("a second MutatorScope on one thread") {
    MutatorScope m(rt);
    CHECK_THROWS_AS(MutatorScope{rt}, UsageError);
  }
  SUBCASE("allocating through another thread's mutator") {
    MutatorScope m(rt);
    std::string message;
    std::thread other([&] {
      try {
        make<Node>(m, 1);
      } catch (const UsageError& e) {
        message = e.what();
      }
    });
    other.join();
    if (kChecked) {
      CHECK(message.find("does not own it") != std::string::npos);
      CHECK(message.find("MutatorScope") != std::string::npos);
    }
  }
  SUBCASE("storing into a managed object from a thread without a MutatorScope") {
    MutatorScope m(rt);
    Persistent<Node> node{make<Node>(m, 1)};
    std::string message;
    std::thread other([&] {
      try {
        node->left = node.get();
      } catch (const UsageError& e) {
        message = e.what();
      }
    });
    other.join();
    if (kChecked) {
      CHECK(message.find("without a MutatorScope") != std::string::npos);
      CHECK(node->left.get() == nullptr);  // nothing was stored
    }
  }
  SUBCASE("bad programmatic settings") {
    CHECK_THROWS_AS(rt.set_gc_percent(-2), UsageError);
    CHECK_THROWS_AS(rt.set_memory_limit(-1), UsageError);
    CHECK(rt.set_gc_percent(50) == 100);
    CHECK(rt.set_gc_percent(kGcPercentOff) == 50);
    CHECK(rt.set_memory_limit(64 << 20) == kMemoryLimitOff);
    CHECK(rt.set_memory_limit(kMemoryLimitOff) == 64 << 20);
  }
}

TEST_CASE("the pacer triggers collections at the heap goal; GOGC=off never triggers") {
  Options options = test::quiet_options();
  options.min_heap_bytes = 1 << 20;
  Runtime rt{options};
  MutatorScope m(rt);
  for (int i = 0; i < 500000; ++i) make<Node>(m, i);  // 16 MB of garbage
  // Stop-the-world: a cycle at every 1 MB goal. Concurrent: the mutator does
  // not wait for cycles it starts, so fewer complete meanwhile.
  CHECK(rt.stats().collections >= (rt.options().concurrent ? 2u : 8u));
  CHECK(rt.stats().explicit_collections == 0);
  rt.set_gc_percent(kGcPercentOff);
  rt.collect();  // and wait: a cycle the pacer asked for may still be running
  const uint64_t before = rt.stats().collections;
  for (int i = 0; i < 500000; ++i) make<Node>(m, i);
  CHECK(rt.stats().collections == before);
  CHECK(rt.stats().heap_goal_bytes == SIZE_MAX);
  rt.set_gc_percent(100);
  rt.set_memory_limit(8 << 20);  // GOGC=100 with a limit: goal capped near 8 MB
  CHECK(rt.stats().heap_goal_bytes <= 8u << 20);
}

TEST_CASE("several background markers share a mark, and the verifier finds nothing lost") {
  gc::GcConfig config;
  config.mode = gc::CollectorMode::kConcurrent;
  config.mark_workers = 3;  // the driver and two more, whatever the machine
  config.verify = true;
  config.min_heap_bytes = 1 << 20;
  gc::Collector collector(config);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      Mutator m(collector);
      Persistent<Node> head;
      for (int round = 0; round < 60; ++round) {
        head.reset();
        for (int i = 0; i < 2000; ++i) {
          Node* n = make<Node>(m, t * 1000000 + i);
          n->left = head.get();
          head = n;
        }
        if (list_sum(head.get()) != 2000 * int64_t{t * 1000000} + 1999 * 2000 / 2) failures.fetch_add(1);
        if (round % 20 == 0) collector.collect(&m, gc::CycleReason::kExplicit);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(collector.stats().collections >= 3);
}
