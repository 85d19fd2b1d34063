// gctrace_test.cpp — the gctrace line format, field by field, and that a
// Runtime with gctrace on emits one line per collection.
#include <doctest/doctest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <tricolor/tricolor.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "../../runtime/gctrace.h"

using tricolor::gc::CycleReason;
using tricolor::gc::CycleReport;

TEST_CASE("gctrace line: cycle, time, phases, heap sizes, goal, threads") {
  CycleReport r;
  r.cycle = 3;
  r.start_ns = 1'204'000'000;
  r.ttsp_ns = 4'000;
  r.mark_ns = 1'200'000;
  r.sweep_ns = 310'000;
  r.heap_before_bytes = size_t{9} << 20;
  r.live_bytes = size_t{4} << 20;
  r.goal_bytes = size_t{8} << 20;
  r.released_bytes = size_t{2} << 20;
  r.heap_at_mark_end_bytes = size_t{9} << 20;
  r.mutators = 2;
  CHECK(tricolor::format_gctrace_line(r) ==
        "gc 3 @1.204s: 0.004+1.200+0.310 ms clock, 9->9->4 MB, 8 MB goal, 2 MB released, 2 threads (stw)");
  r.reason = CycleReason::kExplicit;
  r.goal_bytes = SIZE_MAX;
  CHECK(tricolor::format_gctrace_line(r) ==
        "gc 3 @1.204s: 0.004+1.200+0.310 ms clock, 9->9->4 MB, no goal, 2 MB released, 2 threads (stw) (forced)");
}

TEST_CASE("gctrace line, concurrent cycle: both pauses around the concurrent mark, and the CPU split") {
  CycleReport r;
  r.concurrent = true;
  r.cycle = 7;
  r.start_ns = 2'500'000'000;
  r.start_handshake_ns = 12'000;
  r.mark_ns = 5'300'000;
  r.end_handshake_ns = 20'000;
  r.assist_cpu_ns = 100'000;
  r.background_cpu_ns = 4'900'000;
  r.idle_cpu_ns = 2'500'000;
  r.heap_before_bytes = size_t{9} << 20;
  r.heap_at_mark_end_bytes = size_t{10} << 20;
  r.live_bytes = size_t{4} << 20;
  r.goal_bytes = size_t{8} << 20;
  r.mutators = 2;
  r.dedicated_markers = 0;
  r.fractional_marker_share = 0.5;
  r.idle_markers = 1;
  CHECK(tricolor::format_gctrace_line(r) ==
        "gc 7 @2.500s: 0.012+5.300+0.020 ms clock, 0.100/4.900/2.500 ms cpu, 9->10->4 MB, 8 MB goal, "
        "0 MB released, 2 threads, 0+0.50+1 markers");
  tricolor::MapActivity maps;
  maps.growths = 3;
  maps.evacuated_by_mutators = 640;
  maps.evacuated_by_workers = 4480;
  maps.backlog = 1024;
  CHECK(tricolor::format_gctrace_line(r, maps) ==
        "gc 7 @2.500s: 0.012+5.300+0.020 ms clock, 0.100/4.900/2.500 ms cpu, 9->10->4 MB, 8 MB goal, "
        "0 MB released, 2 threads, 0+0.50+1 markers, map: 3 growths, 5120 evacuated (88% by workers), 1024 backlog");
}

TEST_CASE("with gctrace on, every collection writes one line to the tricolor logger") {
  std::ostringstream captured;
  auto logger = std::make_shared<spdlog::logger>(
      "tricolor", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  logger->set_pattern("%v");
  spdlog::register_logger(logger);
  {
    tricolor::Options options;
    options.gctrace = true;
    tricolor::Runtime rt{options};
    tricolor::MutatorScope m(rt);
    rt.collect();
    using IntMap = tricolor::Map<uint64_t, uint64_t>;
    tricolor::Local<IntMap> map(m, tricolor::make<IntMap>(m));
    for (uint64_t i = 0; i < 20000; ++i) map->insert_or_assign(m, i, i);  // < 1 MiB: no pacer cycle
    rt.collect();
  }
  spdlog::drop("tricolor");
  const std::string text = captured.str();
  CHECK(text.find("gc 1 @") == 0);
  // The first line saw no map at work; the second shows the growths.
  CHECK(text.find(", map: ") > text.find("\ngc 2 @"));
  CHECK(text.find(" growths, ") != std::string::npos);
  CHECK(text.find("\ngc 2 @") != std::string::npos);
  CHECK(text.find("(forced)") != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
}

TEST_CASE("with gctrace off, nothing is written") {
  std::ostringstream captured;
  auto logger = std::make_shared<spdlog::logger>(
      "tricolor", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  spdlog::register_logger(logger);
  {
    tricolor::Runtime rt{tricolor::Options{}};
    rt.collect();
  }
  spdlog::drop("tricolor");
  CHECK(captured.str().empty());
}

TEST_CASE("TRICOLOR_TRACE: a Runtime writes a timeline of its cycles, handshakes and sweeps") {
  char path_template[] = "/tmp/tricolor-trace-XXXXXX";
  const int fd = mkstemp(path_template);
  REQUIRE(fd >= 0);
  close(fd);
  {
    tricolor::Options options;
    options.trace_path = path_template;
    tricolor::Runtime rt{options};
    tricolor::MutatorScope m(rt);
    rt.collect();
    rt.collect();
  }
  std::ifstream in(path_template);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path_template);
  CHECK(text.find("\"traceEvents\"") != std::string::npos);
  if (tricolor::Options{}.concurrent) {
    for (const char* name : {"\"cycle\"", "\"start handshake\"", "\"handshake: roots\"", "\"termination round\"",
                             "\"end handshake\"", "\"sweep\"", "\"heap live MB\"", "\"tricolor-gc\""})
      CHECK_MESSAGE(text.find(name) != std::string::npos, name);
  }
}
