// record_test.cpp — the benchmark record (bench/record.h): the medians a
// repeated benchmark reports and the JSON that keeps every run beside them;
// and the harness's lookup of a program built beside the benchmark.
#include <doctest/doctest.h>

#include <string>

#include <unistd.h>

#include <cstdlib>

#include "../../bench/harness.h"
#include "../../bench/record.h"

using tricolor_bench::Metrics;

TEST_CASE("the median is the lower median, and 0 of nothing") {
  CHECK(tricolor_bench::median({3, 1, 2}) == 2);
  CHECK(tricolor_bench::median({4, 1, 3, 2}) == 2);
  CHECK(tricolor_bench::median({7}) == 7);
  CHECK(tricolor_bench::median({}) == 0);
}

TEST_CASE("median_metrics takes each metric's median over the runs that report it, in first-seen order") {
  const std::vector<Metrics> runs = {{{"wall_s", 1}, {"pause_max_ns", 10}},
                                     {{"wall_s", 3}},
                                     {{"wall_s", 2}, {"pause_max_ns", 30}, {"collections", 5}}};
  const Metrics median = tricolor_bench::median_metrics(runs);
  REQUIRE(median.size() == 3);
  CHECK(median[0] == std::pair<std::string, double>("wall_s", 2));
  CHECK(median[1] == std::pair<std::string, double>("pause_max_ns", 10));  // lower of 10 and 30
  CHECK(median[2] == std::pair<std::string, double>("collections", 5));
}

TEST_CASE("a repeated benchmark's JSON keeps every run under \"runs\"; a single run has none") {
  tricolor_bench::Record record{"demo", "bench_demo --repeat 2", {}, {}};
  record.runs.emplace_back("tricolor", std::vector<Metrics>{{{"wall_s", 1.5}}, {{"wall_s", 2.5}}});
  record.implementation("tricolor") = tricolor_bench::median_metrics(record.runs.front().second);
  const std::string repeated = tricolor_bench::to_json(record);
  CHECK(repeated.find("\"implementations\": {\n    \"tricolor\": {\"wall_s\": 1.5}") != std::string::npos);
  CHECK(repeated.find("\"runs\": {\n    \"tricolor\": [\n      {\"wall_s\": 1.5},\n      {\"wall_s\": 2.5}]") !=
        std::string::npos);
  CHECK(repeated.ends_with("}\n"));

  record.runs.clear();
  const std::string single = tricolor_bench::to_json(record);
  CHECK(single.find("\"runs\"") == std::string::npos);
  CHECK(single.ends_with("\"wall_s\": 1.5}\n  }\n}\n"));
}

TEST_CASE("a peer program is found beside this one, unless its environment variable names another") {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  REQUIRE(n > 0);
  const std::string path(self, static_cast<size_t>(n));
  const std::string directory = path.substr(0, path.rfind('/') + 1);
  CHECK(tricolor_bench::beside_this_program("stwassign") == directory + "stwassign");
  unsetenv("TRICOLOR_TEST_PEER");
  CHECK(tricolor_bench::beside_this_program("mapbench", "TRICOLOR_TEST_PEER") == directory + "mapbench");
  setenv("TRICOLOR_TEST_PEER", "", 1);  // empty: as if unset
  CHECK(tricolor_bench::beside_this_program("mapbench", "TRICOLOR_TEST_PEER") == directory + "mapbench");
  setenv("TRICOLOR_TEST_PEER", "/opt/peers/mapbench", 1);
  CHECK(tricolor_bench::beside_this_program("mapbench", "TRICOLOR_TEST_PEER") == "/opt/peers/mapbench");
  unsetenv("TRICOLOR_TEST_PEER");
}
