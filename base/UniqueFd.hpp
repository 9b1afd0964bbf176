// A move-only owner of one file descriptor (after Seastar's file_desc).
// Named factories open the kinds of fds tvf uses; EAGAIN is a value.
#pragma once

#include <unistd.h>

#include <string>
#include <utility>

#include "tvf/Result.hpp"

namespace tvf {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Factories. Each returns the errno and what was attempted on failure.
  static Result<UniqueFd> eventFd();                  // EFD_NONBLOCK | EFD_CLOEXEC
  static Result<UniqueFd> timerFd();                  // CLOCK_MONOTONIC, nonblocking
  static Result<UniqueFd> signalFd(const int* signals, int count);  // blocks them too
  static Result<UniqueFd> epoll();
  static Result<UniqueFd> inetDgram();                // for SIOC* ioctls
  // Opens one queue of the TAP `name` (created if missing). `flags` are IFF_*.
  static Result<UniqueFd> tap(const std::string& name, int flags);

 private:
  int fd_ = -1;
};

// Reads an eventfd/timerfd counter; 0 when nothing was pending (EAGAIN).
std::uint64_t drainCounterFd(int fd) noexcept;
// Adds 1 to an eventfd.
void kickEventFd(int fd) noexcept;

}  // namespace tvf
