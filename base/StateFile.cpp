#include "base/StateFile.hpp"

#include <cerrno>
#include <cstdio>
#include <fstream>

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

}  // namespace tvf
