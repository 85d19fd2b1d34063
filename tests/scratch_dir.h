// scratch_dir.h — a fresh per-process directory for a test suite's files,
// removed at exit. scratch_dir("timeline") → /tmp/tricolor-timeline-test-<pid>.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace test {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& suite)
      : path_(std::filesystem::temp_directory_path() /
              ("tricolor-" + suite + "-test-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace test
