#include "src/HookRunner.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstring>

#include "base/Log.hpp"

extern char** environ;

namespace tvf {

HookRunner::HookRunner() : log_(moduleLogger("hook")) {}

void HookRunner::run(const std::string& path, const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout) {
  std::vector<std::string> all{path};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);  // the daemon blocks signals for signalfd
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  // The hook gets stdin, stdout and stderr and nothing else of tvfd's: not
  // the control or netlink sockets, and not a scrape's connection (Asio
  // accepts without SOCK_CLOEXEC and marks it a moment later).
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addclosefrom_np(&files, 3);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, path.c_str(), &files, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  ++started_;
  if (rc != 0) {
    ++failed_;
    log_->warn("on_switch hook {} could not start: {}", path, std::strerror(rc));
    return;
  }
  running_[pid] = {path, Clock::now() + timeout, false};
}

void HookRunner::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    auto it = running_.find(pid);
    if (it == running_.end()) continue;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failed_;
      log_->warn("on_switch hook {} {} {}", it->second.path,
                 WIFEXITED(status) ? "exited with" : "killed by signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    running_.erase(it);
  }
  const auto now = Clock::now();
  for (auto& [pid, r] : running_) {
    if (!r.killed && now >= r.deadline) {
      log_->warn("on_switch hook {} timed out; killing pid {}", r.path, pid);
      ::kill(pid, SIGKILL);
      r.killed = true;
    }
  }
}

std::optional<HookRunner::Clock::time_point> HookRunner::nextDeadline() const {
  std::optional<Clock::time_point> best;
  for (const auto& [pid, r] : running_) {
    if (!r.killed && (!best || r.deadline < *best)) best = r.deadline;
  }
  return best;
}

}  // namespace tvf
