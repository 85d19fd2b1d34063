// errors.cpp — fatal(): report a broken invariant and abort.
#include "errors.h"

#include <cstdio>
#include <cstdlib>

namespace tricolor::gc {

void fatal(const std::string& message) {
  std::fprintf(stderr, "tricolor: fatal: %s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace tricolor::gc
