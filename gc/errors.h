// errors.h — the named errors tricolor raises for API misuse and exhaustion.
//
// Owns: UsageError (the embedder broke a documented rule: heap touched from a
// thread without a MutatorScope, a Local released out of order, ...) and
// fatal() for states the collector cannot recover from (a corrupted heap found
// by the verifier). Invariant: a misuse is reported with a message that says
// what was wrong and what is accepted; it never turns into silent corruption.
#pragma once

#include <stdexcept>
#include <string>

namespace tricolor {

// Thrown when the embedder misuses the API. The heap is left unchanged.
class UsageError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Thrown when an allocation cannot be satisfied (the OS refused memory).
class HeapExhausted : public std::bad_alloc {
 public:
  explicit HeapExhausted(std::string what) : what_(std::move(what)) {}
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

namespace gc {
// Prints "tricolor: fatal: <message>" to stderr and aborts. For broken
// invariants only (the heap can no longer be trusted), never for misuse.
[[noreturn]] void fatal(const std::string& message);
// Throws UsageError naming `operation` unless the calling thread holds a
// MutatorScope. Called by checked builds only.
void check_heap_access(const char* operation);
}  // namespace gc

// Checked builds (debug, sanitizer) validate API use; release builds trust it.
#if defined(TRICOLOR_CHECKED) || !defined(NDEBUG)
inline constexpr bool kChecked = true;
#else
inline constexpr bool kChecked = false;
#endif

}  // namespace tricolor
