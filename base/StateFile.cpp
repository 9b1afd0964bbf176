#include "base/StateFile.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>

#include "base/UniqueFd.hpp"

namespace tvf {

Status writeFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) return Status::fail(errno != 0 ? errno : EIO, "write " + tmp);
    f << text;
    if (!f.flush()) return Status::fail(errno != 0 ? errno : EIO, "write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::fail(errno, "rename " + tmp + " to " + path);
  return Status::ok();
}

Result<std::string> readStateFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return Error{errno, "open " + path};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error{errno, "stat " + path};
  if (S_ISDIR(st.st_mode)) return Error{EISDIR, path + " is a directory"};
  if (!S_ISREG(st.st_mode)) return Error{EINVAL, path + " is not a regular file"};
  constexpr off_t kMax = 16 << 20;
  if (st.st_size > kMax) return Error{EFBIG, path + " is larger than 16 MiB"};
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{errno, "read " + path};
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > static_cast<std::size_t>(kMax)) return Error{EFBIG, path + " is larger than 16 MiB"};
  }
  return text;
}

}  // namespace tvf
