// child_process.h — runs a test body in a forked child and reports how it
// ended (aborted or exit code) with its stderr, for tests that expect the
// collector to stop the process (the verifier, fatal checks).
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <functional>
#include <string>

namespace test {

struct ChildOutcome {
  bool aborted = false;
  int exit_code = -1;
  std::string stderr_text;
};

inline ChildOutcome run_in_child(const std::function<void()>& body) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::fflush(stdout);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 2);
    std::signal(SIGABRT, SIG_DFL);
    if (std::freopen("/dev/null", "w", stdout) == nullptr) _exit(3);
    body();
    _exit(0);
  }
  close(fds[1]);
  ChildOutcome outcome;
  char buffer[512];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) outcome.stderr_text.append(buffer, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  outcome.aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

}  // namespace test
