#include "src/InstanceLock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <filesystem>

namespace tvf {

namespace {

// The pid a holder wrote into the lock file ("" when unreadable).
std::string holderPid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return {};
  std::string pid(buf, static_cast<std::size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

// Binds "\0tvfd/KIND/NAME". EADDRINUSE: another process holds the name.
Result<UniqueFd> bindAbstract(const std::string& name, const std::string& busy) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error{errno, "socket(AF_UNIX) for the lock " + name};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = "tvfd/" + name;
  if (path.size() + 1 > sizeof addr.sun_path) return Error{ENAMETOOLONG, "lock name " + path};
  std::memcpy(addr.sun_path + 1, path.data(), path.size());  // sun_path[0] = 0: abstract
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + path.size());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) < 0) {
    if (errno == EADDRINUSE) return Error{EBUSY, busy};
    return Error{errno, "bind the lock @" + path};
  }
  return fd;
}

}  // namespace

Result<UniqueFd> lockStateDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = (std::filesystem::path(dir) / "tvfd.lock").string();
  // Not through a symbolic link, and only a regular file is written: the
  // directory may be one others can write to (control_socket under /tmp).
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return Error{errno, "open " + path + (errno == ELOOP ? " (a symbolic link: refused)" : "")};
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return Error{errno, "fstat " + path};
  if (!S_ISREG(st.st_mode)) return Error{EINVAL, path + " is not a regular file"};
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno != EWOULDBLOCK) return Error{errno, "flock " + path};
    const std::string pid = holderPid(fd.get());
    return Error{EBUSY, "another tvfd" + (pid.empty() ? std::string() : " (pid " + pid + ")") +
                            " uses the state directory " + dir +
                            " (claims.json, holds, timelines): stop it first, or give this configuration "
                            "another control_socket directory"};
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) < 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0)
    return Error{errno, "write " + path};
  return fd;
}

Result<UniqueFd> lockPairName(const std::string& pair) {
  return bindAbstract("pair/" + pair, "another tvfd in this network namespace runs pair " + pair);
}

Result<UniqueFd> lockSyntheticMac(const MacAddress& mac) {
  return bindAbstract("synthetic/" + mac.toString(),
                      "another tvfd in this network namespace runs a pair on the synthetic " + mac.toString());
}

}  // namespace tvf
