#include <doctest/doctest.h>
#include <tricolor/tricolor.h>

struct Node {
  tricolor::Member<Node> left, right;
  int64_t payload = 0;
  void trace(tricolor::Visitor& v) const { v.visit(left); v.visit(right); }
};

TEST_CASE("smoke") {
  tricolor::Runtime rt{tricolor::Options{}};
  {
    tricolor::MutatorScope m(rt);
    tricolor::Persistent<Node> root{tricolor::make<Node>(m)};
    for (int i = 0; i < 100000; ++i) { auto* n = tricolor::make<Node>(m); n->payload = i; if (i % 3 == 0) root->left = n; }
    rt.collect();
    CHECK(rt.stats().collections >= 1);
  }
}
