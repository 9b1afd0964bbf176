#include "src/FdLimit.hpp"

#include <cerrno>

namespace tvf {

Result<rlim_t> raiseFdLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) < 0) return Error{errno, "getrlimit(RLIMIT_NOFILE)"};
  if (rl.rlim_cur == rl.rlim_max) return rl.rlim_cur;
  const rlim_t old = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &rl) < 0) return Error{errno, "setrlimit(RLIMIT_NOFILE, " + std::to_string(old) + " -> hard)"};
  return rl.rlim_cur;
}

}  // namespace tvf
