#include "src/InstanceLock.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/Log.hpp"

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

// The socket inodes bound to the abstract `path` in this network namespace
// (/proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path", an
// abstract name shown with '@' for its leading NUL).
std::set<std::string> abstractInodes(const std::string& path) {
  std::set<std::string> inodes;
  std::ifstream in("/proc/net/unix");
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string num, refs, proto, flags, type, st, inode, name;
    if (f >> num >> refs >> proto >> flags >> type >> st >> inode >> name && name == "@" + path) inodes.insert(inode);
  }
  return inodes;
}

// The effective uid of `pid` (Uid: real effective saved fs), -1 if unknown.
long effectiveUid(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Uid:", 0) != 0) continue;
    std::istringstream f(line.substr(4));
    long real = -1, effective = -1;
    f >> real >> effective;
    return effective;
  }
  return -1;
}

}  // namespace

std::vector<LockHolder> abstractNameHolders(const std::string& path) {
  const auto inodes = abstractInodes(path);
  std::vector<LockHolder> out;
  if (inodes.empty()) return out;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return out;
  while (const dirent* p = ::readdir(proc.get())) {
    const std::string pid = p->d_name;
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string fdDir = "/proc/" + pid + "/fd";
    std::unique_ptr<DIR, int (*)(DIR*)> fds(::opendir(fdDir.c_str()), ::closedir);
    if (!fds) continue;
    bool holds = false;
    while (const dirent* d = ::readdir(fds.get())) {
      char link[64] = {};
      const std::string fdPath = fdDir + "/" + d->d_name;
      const ssize_t n = ::readlink(fdPath.c_str(), link, sizeof link - 1);
      if (n <= 9 || std::strncmp(link, "socket:[", 8) != 0) continue;
      if (inodes.count(std::string(link + 8, static_cast<std::size_t>(n) - 9))) {
        holds = true;
        break;
      }
    }
    if (holds) out.push_back(LockHolder{std::stoi(pid), effectiveUid(pid)});
  }
  return out;
}

namespace {

// Binds "\0tvfd/NAME". Taken by another process: refused (EBUSY, `busy`
// and the holder's pid) when a root process holds it, as a tvfd does;
// an unprivileged holder cannot be a tvfd and only squats the name: then
// tvfd goes on without this lock (an empty descriptor), saying so.
Result<UniqueFd> bindAbstract(const std::string& name, const std::string& busy) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error{errno, "socket(AF_UNIX) for the lock " + name};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = "tvfd/" + name;
  if (path.size() + 1 > sizeof addr.sun_path) return Error{ENAMETOOLONG, "lock name " + path};
  std::memcpy(addr.sun_path + 1, path.data(), path.size());  // sun_path[0] = 0: abstract
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + path.size());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0) return fd;
  if (errno != EADDRINUSE) return Error{errno, "bind the lock @" + path};
  const auto holders = abstractNameHolders(path);
  std::string pids;
  for (const auto& h : holders) {
    if (h.uid != 0) continue;
    if (!pids.empty()) pids += ", ";
    pids += std::to_string(h.pid);
  }
  if (holders.empty()) return Error{EBUSY, busy + " (the lock @" + path + " is held by a process not visible here)"};
  if (!pids.empty()) return Error{EBUSY, busy + " (pid " + pids + ")"};
  moduleLogger("tvfd")->warn("the lock @{} is held by pid {} (uid {}), which cannot be a tvfd (not root): going on "
                             "without it",
                             path, holders.front().pid, holders.front().uid);
  return UniqueFd();
}

}  // namespace

Result<UniqueFd> lockStateDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = (std::filesystem::path(dir) / "tvfd.lock").string();
  // Not through a symbolic link, and only a regular file is written: the
  // directory may be one others can write to (control_socket under /tmp).
  // Mode 0600: a user who could open it could flock it and stop tvfd.
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) {
    std::string why = errno == ELOOP ? " (a symbolic link: refused)" : "";
    if (errno == ENOENT && ec) why = " (cannot create " + dir + ": " + ec.message() + ")";
    return Error{errno, "open " + path + why};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return Error{errno, "fstat " + path};
  if (!S_ISREG(st.st_mode)) return Error{EINVAL, path + " is not a regular file"};
  if ((st.st_mode & 077) != 0 && ::fchmod(fd.get(), 0600) < 0) return Error{errno, "chmod 0600 " + path};
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
