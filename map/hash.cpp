// hash.cpp — per-map random seeds (see hash.h).
#include "hash.h"

#include <random>

namespace tricolor {

uint64_t random_map_seed() {
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }()};
  return generator();
}

}  // namespace tricolor
