// main.cpp — the `lox` command: run a file, or a REPL without one.
//
//   lox [--stats] [path]
//
// Exit codes (clox's): 0 ok, 64 usage (also a malformed GOGC / GOMEMLIMIT /
// GODEBUG / TRICOLOR_* value, with the error), 65 compile error, 70 runtime
// error, 74 the file could not be read. --stats prints the collector's pause
// statistics to stderr at exit.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <tricolor/tricolor.h>

#include "vm.h"

namespace {

int usage() {
  std::fprintf(stderr, "Usage: lox [--stats] [path]\n");
  return 64;
}

// One line of key=value pairs (bench/lox_bench.cpp reads it).
void print_stats(tricolor::Runtime& runtime) {
  const tricolor::Stats s = runtime.stats();
  std::fprintf(stderr,
               "lox: collections=%llu pauses=%llu pause_p50_ns=%llu pause_p99_ns=%llu pause_max_ns=%llu "
               "ttsp_max_ns=%llu heap_live_bytes=%zu heap_goal_bytes=%zu\n",
               static_cast<unsigned long long>(s.collections), static_cast<unsigned long long>(s.pause_ns.count()),
               static_cast<unsigned long long>(s.pause_ns.percentile(0.5)),
               static_cast<unsigned long long>(s.pause_ns.percentile(0.99)),
               static_cast<unsigned long long>(s.pause_ns.max()), static_cast<unsigned long long>(s.ttsp_ns.max()),
               s.heap_live_bytes, s.heap_goal_bytes);
}

int repl(lox::VM& vm, tricolor::Mutator& m) {
  std::string line;
  for (;;) {
    std::printf("> ");
    std::fflush(stdout);
    bool got;
    {
      tricolor::BlockingRegion waiting(m);  // the collector need not wait for the terminal
      got = static_cast<bool>(std::getline(std::cin, line));
    }
    if (!got) {
      std::printf("\n");
      return 0;
    }
    vm.interpret(line);
  }
}

int run_file(lox::VM& vm, tricolor::Mutator& m, const char* path) {
  std::string source;
  {
    tricolor::BlockingRegion reading(m);
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored)) {
      std::fprintf(stderr, "Could not read file \"%s\".\n", path);
      return 74;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "Could not open file \"%s\".\n", path);
      return 74;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
      std::fprintf(stderr, "Could not read file \"%s\".\n", path);
      return 74;
    }
    source = text.str();
  }
  switch (vm.interpret(source)) {
    case lox::InterpretResult::kOk: return 0;
    case lox::InterpretResult::kCompileError: return 65;
    case lox::InterpretResult::kRuntimeError: return 70;
  }
  return 70;
}

}  // namespace

int main(int argc, char** argv) {
  bool stats = false;
  const char* path = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--stats") == 0 && !stats) stats = true;
    else if (path == nullptr && argv[i][0] != '-') path = argv[i];
    else return usage();
  }
  std::optional<tricolor::Runtime> runtime;
  try {
    runtime.emplace();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "lox: %s\n", error.what());
    return 64;
  }
  int status;
  {
    tricolor::MutatorScope mutator(*runtime);
    lox::VM vm(*runtime, mutator);
    status = path ? run_file(vm, mutator, path) : repl(vm, mutator);
  }
  std::fflush(stdout);
  if (stats) print_stats(*runtime);
  return status;
}
