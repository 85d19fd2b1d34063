// main.cpp — a minimal embedder of the installed tricolor: a linked list
// rooted in a Persistent survives a collection; returns non-zero on failure.
#include <tricolor/tricolor.h>

#include <cstdint>
#include <cstdio>

struct Node {
  tricolor::Member<Node> next;
  int64_t payload = 0;
  void trace(tricolor::Visitor& v) const { v.visit(next); }
};

static int failures = 0;
static void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what);
    ++failures;
  }
}

int main() {
  tricolor::Runtime rt{tricolor::Options{}};
  {
    tricolor::MutatorScope m(rt);
    tricolor::Persistent<Node> head{tricolor::make<Node>(m)};
    Node* tail = head.get();
    for (int64_t i = 1; i <= 3; ++i) {
      tail->next = tricolor::make<Node>(m);
      tail = tail->next;
      tail->payload = i;
    }
    tricolor::WeakRef<Node> last{tail};
    for (int i = 0; i < 1000; ++i) tricolor::make<Node>(m)->payload = -1;  // garbage

    rt.collect();

    check(rt.stats().collections >= 1, "stats().collections >= 1");
    check(last.get() != nullptr, "the reachable tail is still alive (WeakRef)");
    int64_t expected = 0;
    for (Node* n = head.get(); n != nullptr; n = n->next, ++expected)
      check(n->payload == expected, "payloads 0..3 intact along the list");
    check(expected == 4, "the list still has 4 nodes");
  }
  if (failures == 0) std::puts("consumer: OK");
  return failures == 0 ? 0 : 1;
}
