// Runs the on_switch hook without blocking the control thread: spawned with
// posix_spawn, reaped on SIGCHLD, killed when it outlives its timeout.
//
// Thread: the control thread. Counters: hooks run, failed, killed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace tvf {

class HookRunner {
 public:
  using Clock = std::chrono::steady_clock;
  HookRunner();
  void run(const std::string& path, const std::vector<std::string>& args, std::chrono::milliseconds timeout);
  // Reaps finished hooks (call on SIGCHLD) and kills overdue ones.
  void reap();
  std::optional<Clock::time_point> nextDeadline() const;
  std::uint64_t failed() const { return failed_; }
  std::uint64_t started() const { return started_; }
  std::size_t running() const { return running_.size(); }

 private:
  struct Running {
    std::string path;
    Clock::time_point deadline;
    bool killed = false;
  };
  std::map<pid_t, Running> running_;
  std::uint64_t started_ = 0;
  std::uint64_t failed_ = 0;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace tvf
