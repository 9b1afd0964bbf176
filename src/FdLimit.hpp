// tvfd's file descriptor budget.
//
// Thread: call from main before any thread starts.
#pragma once

#include <sys/resource.h>

#include "tvf/Result.hpp"

namespace tvf {

// Raises the soft RLIMIT_NOFILE to the hard limit (systemd's default soft
// limit is 1024; its hard limit is far higher). Returns the soft limit now
// in force; errors: the errno of getrlimit/setrlimit (then the old limit
// still holds).
Result<rlim_t> raiseFdLimit();

}  // namespace tvf
