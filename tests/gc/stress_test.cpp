// stress_test.cpp — randomized graph mutations on two threads with
// collections interleaved, against a shadow model of what must be reachable.
//
// Each thread owns a graph reachable from its root array (a root scanner) and
// mirrors every mutation in a model (ids and edges). Every node also holds an
// ephemeron (key → value) whose value the model counts as reachable only
// while its key is reachable by other paths. Edges may also point into
// a shared tree both threads reach through a Persistent. Walks through the
// real graph are checked against the model at every step; after each explicit
// collection every model-reachable object must be intact (id, payload
// checksum, edges) and never destroyed, and every object that was unreachable
// must have been destroyed. In checked builds freed slots are poisoned, so a
// use after free shows up as a corrupted checksum or id.
//
// The collector runs with the verifier on and in TRICOLOR_STRESS=random mode
// (random cycle starts, handshake delays, marker yields) seeded from the
// test's seed.
// Replay: the seed is printed; TRICOLOR_TEST_SEED=<seed> takes it back.
// Size: TRICOLOR_STRESS_MUTATIONS (default 10 000 000 across both threads;
// the nightly-size run is 50 000 000).
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_types.h"

using namespace tricolor;

namespace {

constexpr int kEdges = 4;
constexpr int kRoots = 256;
constexpr int32_t kNull = -1;
constexpr int kSharedNodes = 1024;

uint64_t checksum_of(uint64_t id, uint64_t payload) {
  uint64_t x = id * 0x9e3779b97f4a7c15ull ^ payload;
  x ^= x >> 31;
  return x * 0xbf58476d1ce4e5b9ull;
}

// Destruction records, written by whichever thread collects (with the owner
// stopped), read by the owner after it resumes.
std::vector<uint8_t> g_destroyed[3];

struct StressNode {
  Member<StressNode> edges[kEdges];
  Ephemeron<StressNode, StressNode> side;
  uint32_t owner;  // 0, 1: a mutator thread; 2: the shared tree
  uint32_t id;
  uint64_t payload;
  uint64_t checksum;
  StressNode(uint32_t o, uint32_t i, uint64_t p) : owner(o), id(i), payload(p), checksum(checksum_of(i, p)) {}
  ~StressNode() { g_destroyed[owner][id] = 1; }
  void trace(Visitor& v) const {
    for (const auto& e : edges) v.visit(e);
    v.visit(side);
  }
};

// A model edge: kNull, an own node id (>= 0), or a shared node (-2 - index).
struct ModelNode {
  std::array<int32_t, kEdges> edges{kNull, kNull, kNull, kNull};
  int32_t side_key = kNull;  // the ephemeron, as two edges
  int32_t side_value = kNull;
  uint64_t payload = 0;
};

uint64_t seed_from_env() {
  if (const char* text = std::getenv("TRICOLOR_TEST_SEED")) return std::strtoull(text, nullptr, 10);
  return std::random_device{}();
}

uint64_t mutations_from_env() {
  if (const char* text = std::getenv("TRICOLOR_STRESS_MUTATIONS")) return std::strtoull(text, nullptr, 10);
  return 10'000'000;
}

struct Failures {
  std::atomic<uint64_t> count{0};
  std::string first;
  std::atomic_flag taken;
  void add(const std::string& what) {
    if (!taken.test_and_set()) first = what;
    count.fetch_add(1);
  }
};

class ThreadGraph {
 public:
  ThreadGraph(uint32_t owner, uint64_t seed, Runtime& rt, StressNode* const* shared, Failures& failures)
      : owner_(owner), rng_(seed), rt_(rt), shared_(shared), failures_(failures) {
    roots_.fill(nullptr);
    root_ids_.fill(kNull);
  }

  uint64_t run(uint64_t mutations, uint64_t check_every) {
    MutatorScope m(rt_);
    mutator_ = &m;
    m.set_root_scanner([this](Visitor& v) {
      v.visit_range(reinterpret_cast<const void* const*>(roots_.data()), roots_.size());
    });
    uint64_t checks = 0;
    for (uint64_t i = 1; i <= mutations && failures_.count == 0; ++i) {
      mutate(m);
      if (i % 64 == 0) m.safepoint();
      if (i % check_every == 0) {
        rt_.collect();
        check_after_collection();
        ++checks;
      }
    }
    rt_.collect();
    check_after_collection();
    return checks + 1;
  }

 private:
  struct Ref {
    StressNode* node;
    int32_t id;  // model id of node (kNull when node is null)
  };

  uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }

  void fail(const std::string& what) { failures_.add("thread " + std::to_string(owner_) + ": " + what); }

  StressNode* shared(int32_t edge) const { return shared_[-2 - edge]; }

  // Checks that a real pointer matches its model edge.
  bool matches(const StressNode* node, int32_t edge) {
    if (edge == kNull) return node == nullptr;
    if (edge <= -2) return node == shared(edge);
    return node != nullptr && node->owner == owner_ && node->id == static_cast<uint32_t>(edge) &&
           node->payload == model_[edge].payload && node->checksum == checksum_of(node->id, node->payload);
  }

  // A random own node reachable from the roots, walking real and model graph
  // side by side; null if the walk ends on nothing own.
  Ref walk() {
    const uint32_t r = pick(kRoots);
    Ref at{roots_[r], root_ids_[r]};
    if (!matches(at.node, at.id)) fail("root " + std::to_string(r) + " differs from the model");
    for (uint32_t steps = pick(4); steps > 0 && at.id >= 0; --steps) {
      const uint32_t k = pick(kEdges);
      const int32_t next_id = model_[at.id].edges[k];
      StressNode* next = at.node->edges[k];
      if (!matches(next, next_id)) fail("edge differs from the model during a walk");
      if (next_id < 0) break;
      at = Ref{next, next_id};
    }
    return at.id >= 0 ? at : Ref{nullptr, kNull};
  }

  // An edge target: own node, shared node or null.
  Ref target() {
    const uint32_t roll = pick(10);
    if (roll == 0) return Ref{nullptr, kNull};
    if (roll == 1) {
      const int32_t s = static_cast<int32_t>(pick(kSharedNodes));
      return Ref{shared_[s], -2 - s};
    }
    return walk();
  }

  void mutate(Mutator& m) {
    const uint32_t op = pick(100);
    if (op < 30) {  // allocate into a root, with an edge to something reachable
      const Ref link = target();
      const auto id = static_cast<int32_t>(model_.size());
      const uint64_t payload = rng_();
      g_destroyed[owner_].at(static_cast<size_t>(id)) = 0;
      StressNode* node = make<StressNode>(m, owner_, static_cast<uint32_t>(id), payload);
      // link.node stays valid across make<>: it is reachable from the roots,
      // which did not change, and tricolor never moves objects.
      model_.push_back(ModelNode{});
      model_.back().payload = payload;
      const uint32_t k = pick(kEdges);
      node->edges[k] = link.node;
      model_.back().edges[k] = link.id;
      const uint32_t r = pick(kRoots);
      roots_[r] = node;
      root_ids_[r] = id;
    } else if (op < 75) {  // rewrite an edge
      const Ref from = walk();
      if (from.node == nullptr) return;
      const Ref to = target();
      const uint32_t k = pick(kEdges);
      from.node->edges[k] = to.node;
      model_[from.id].edges[k] = to.id;
    } else if (op < 85) {  // rewrite a root
      const Ref to = pick(4) == 0 ? Ref{nullptr, kNull} : walk();
      const uint32_t r = pick(kRoots);
      roots_[r] = to.node;
      root_ids_[r] = to.id;
    } else if (op < 92) {  // set or clear an ephemeron
      const Ref at = walk();
      if (at.node == nullptr) return;
      const Ref key = target();
      const Ref value = key.node != nullptr ? target() : Ref{nullptr, kNull};
      at.node->side.set(key.node, value.node);
      model_[at.id].side_key = key.id;
      model_[at.id].side_value = value.id;
    } else {  // rewrite a payload
      const Ref at = walk();
      if (at.node == nullptr) return;
      at.node->payload = rng_();
      at.node->checksum = checksum_of(at.node->id, at.node->payload);
      model_[at.id].payload = at.node->payload;
    }
  }

  // Whether an ephemeron's key counts as alive: shared nodes always are.
  static bool key_alive(int32_t key, const std::vector<uint8_t>& reached) {
    return key <= -2 || (key >= 0 && reached[key]);
  }

  void check_after_collection() {
    std::vector<uint8_t> reached(model_.size(), 0);
    std::vector<Ref> pending;
    for (int r = 0; r < kRoots; ++r) pending.push_back(Ref{roots_[r], root_ids_[r]});
    std::vector<int32_t> reached_ids;
    std::vector<StressNode*> node_of(model_.size(), nullptr);  // the real node of each reached id
    uint64_t steps = 0;
    // Strong edges first, then ephemeron values whose key is reached, until
    // nothing new is reached (the collector's fixpoint, in the model).
    for (bool grew = true; grew;) {
      while (!pending.empty()) {
        // Polling here is safe: nothing is held that the roots do not reach.
        if (++steps % 1024 == 0) mutator_->safepoint();
        const Ref at = pending.back();
        pending.pop_back();
        if (at.id < 0 || reached[at.id]) continue;
        reached[at.id] = 1;
        reached_ids.push_back(at.id);
        node_of[at.id] = at.node;
        if (!matches(at.node, at.id)) return fail("reachable object " + std::to_string(at.id) + " corrupted");
        if (g_destroyed[owner_][at.id]) return fail("reachable object " + std::to_string(at.id) + " was destroyed");
        for (int k = 0; k < kEdges; ++k) {
          const int32_t edge = model_[at.id].edges[k];
          StressNode* next = at.node->edges[k];
          if (!matches(next, edge)) return fail("edge of reachable object " + std::to_string(at.id) + " corrupted");
          if (edge >= 0) pending.push_back(Ref{next, edge});
        }
      }
      grew = false;
      for (const int32_t id : reached_ids) {
        const ModelNode& node = model_[id];
        if (node.side_value >= 0 && !reached[node.side_value] && key_alive(node.side_key, reached)) {
          pending.push_back(Ref{node_of[id]->side.value(), node.side_value});
          grew = true;
        }
      }
    }
    // Every reached node's ephemeron: intact while its key lives, cleared
    // (key and value read null) once the key died; the model follows.
    for (const int32_t id : reached_ids) {
      ModelNode& node = model_[id];
      const StressNode* holder_node = node_of[id];
      if (node.side_key == kNull) continue;
      if (key_alive(node.side_key, reached)) {
        if (!matches(holder_node->side.key(), node.side_key) || !matches(holder_node->side.value(), node.side_value))
          return fail("ephemeron of reachable object " + std::to_string(id) + " corrupted");
      } else {
        if (holder_node->side.key() != nullptr || holder_node->side.value() != nullptr)
          return fail("ephemeron of object " + std::to_string(id) + " kept its dead key");
        node.side_key = node.side_value = kNull;
      }
    }
    for (size_t id = 0; id < model_.size(); ++id) {
      if (id % 4096 == 0) mutator_->safepoint();
      if (!reached[id] && !g_destroyed[owner_][id])
        return fail("unreachable object " + std::to_string(id) + " was not reclaimed");
    }
    ++checked_;
  }

  uint32_t owner_;
  std::mt19937_64 rng_;
  Runtime& rt_;
  StressNode* const* shared_;
  Failures& failures_;
  std::array<StressNode*, kRoots> roots_;
  std::array<int32_t, kRoots> root_ids_;
  std::vector<ModelNode> model_;
  uint64_t checked_ = 0;
  Mutator* mutator_ = nullptr;
};

}  // namespace

TEST_CASE("randomized graph stress: two threads, collections interleaved, shadow model") {
  const uint64_t seed = seed_from_env();
  const uint64_t total = mutations_from_env();
  std::printf("stress seed: %llu (replay with TRICOLOR_TEST_SEED=%llu), %llu mutations\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(total));
  MESSAGE("stress seed: " << seed << " (replay with TRICOLOR_TEST_SEED=" << seed << ")");
  for (auto& d : g_destroyed) d.assign(total / 2 + 16, 0);

  Options options = test::quiet_options();
  options.min_heap_bytes = 2 << 20;  // small goal: many pacer-triggered cycles too
  options.verify = true;             // every cycle: reachable ⇒ marked (concurrent) / allocated (stw)
  // Random cycle starts, handshake delays and marker yields: for the
  // concurrent collector, whose interleavings they vary (the oracle does
  // not need them, and its cycles stop the world).
  if (options.concurrent) options.stress.seed = seed | 1;
  Runtime rt{options};
  Failures failures;
  std::array<StressNode*, kSharedNodes> shared{};
  Persistent<StressNode> shared_root;
  {
    MutatorScope m(rt);
    // While it is built, the array roots the tree; afterwards only its root.
    m.set_root_scanner([&](Visitor& v) {
      v.visit_range(reinterpret_cast<const void* const*>(shared.data()), shared.size());
    });
    // A shared tree: node i's children are 2i+1 and 2i+2.
    for (int i = kSharedNodes - 1; i >= 0; --i) {
      shared[i] = make<StressNode>(m, 2u, static_cast<uint32_t>(i), static_cast<uint64_t>(i) * 7);
      if (2 * i + 1 < kSharedNodes) shared[i]->edges[0] = shared[2 * i + 1];
      if (2 * i + 2 < kSharedNodes) shared[i]->edges[1] = shared[2 * i + 2];
    }
    shared_root = shared[0];
  }
  std::atomic<uint64_t> checks{0};
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      ThreadGraph graph(t, seed * 2 + t, rt, shared.data(), failures);
      checks += graph.run(total / 2, 250'000);
    });
  }
  for (auto& th : threads) th.join();
  INFO("first failure: " << failures.first);
  CHECK(failures.count == 0);
  for (int i = 0; i < kSharedNodes; ++i) {
    REQUIRE(shared[i]->checksum == checksum_of(static_cast<uint64_t>(i), shared[i]->payload));
    REQUIRE(g_destroyed[2][i] == 0);
  }
  const Stats s = rt.stats();
  MESSAGE("collections: " << s.collections << ", model checks: " << checks.load()
                          << ", max pause: " << s.pause_ns.max() / 1000 << " us");
  CHECK(s.collections > s.explicit_collections);  // the pacer collected too
  CHECK(checks >= 2);
}
