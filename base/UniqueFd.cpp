#include "base/UniqueFd.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <cstring>

namespace tvf {

namespace {
Error sysError(const std::string& what) { return Error{errno, what}; }
}  // namespace

Result<UniqueFd> UniqueFd::eventFd() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return sysError("eventfd");
  return UniqueFd(fd);
}

Result<UniqueFd> UniqueFd::timerFd() {
  int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return sysError("timerfd_create");
  return UniqueFd(fd);
}

Result<UniqueFd> UniqueFd::signalFd(const int* signals, int count) {
  sigset_t set;
  sigemptyset(&set);
  for (int i = 0; i < count; ++i) sigaddset(&set, signals[i]);
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return sysError("pthread_sigmask");
  int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return sysError("signalfd");
  return UniqueFd(fd);
}

Result<UniqueFd> UniqueFd::epoll() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return sysError("epoll_create1");
  return UniqueFd(fd);
}

Result<UniqueFd> UniqueFd::inetDgram() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return sysError("socket(AF_INET)");
  return UniqueFd(fd);
}

Result<UniqueFd> UniqueFd::tap(const std::string& name, int flags) {
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return sysError("open /dev/net/tun");
  UniqueFd owned(fd);
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = static_cast<short>(flags);
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) return sysError("TUNSETIFF " + name);
  return owned;
}

std::uint64_t drainCounterFd(int fd) noexcept {
  std::uint64_t v = 0;
  if (::read(fd, &v, sizeof v) != sizeof v) return 0;
  return v;
}

void kickEventFd(int fd) noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
}

}  // namespace tvf
