#include <tricolor/tricolor.h>

#include <cstdio>
#include <vector>

// A managed type: say where its managed pointers are.
struct Cons {
  tricolor::Member<Cons> next;
  double value;
  explicit Cons(double v, Cons* rest) : next(rest), value(v) {}
  void trace(tricolor::Visitor& v) const { v.visit(next); }
};

int main() {
  tricolor::Runtime rt;                 // reads GOGC, GOMEMLIMIT, GODEBUG
  tricolor::MutatorScope m(rt);         // this thread may touch the heap
  std::vector<Cons*> stack;             // an interpreter's value stack...
  m.set_root_scanner([&](tricolor::Visitor& v) {  // ...is a root
    for (Cons*& slot : stack) v.visit(slot);
  });
  tricolor::Persistent<Cons> list;      // a global root
  for (int i = 0; i < 1'000'000; ++i) {
    stack.push_back(tricolor::make<Cons>(m, i, nullptr));  // garbage, mostly
    if (i % 1000 == 0) list = tricolor::make<Cons>(m, i, list.get());
    if (stack.size() > 64) stack.clear();
    m.safepoint();                      // interpreters poll at back-edges
  }
  rt.collect();
  double sum = 0;
  for (Cons* c = list.get(); c != nullptr; c = c->next) sum += c->value;
  tricolor::Stats s = rt.stats();
  std::printf("sum %.0f, %llu collections, max pause %llu us\n", sum,
              static_cast<unsigned long long>(s.collections),
              static_cast<unsigned long long>(s.pause_ns.max() / 1000));
  return sum == 499500000.0 ? 0 : 1;
}
