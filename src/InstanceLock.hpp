// What keeps a second tvfd off what a running one owns.
//
// Two tvfds on one state directory overwrite each other's claim records
// (claims.json), holds and timelines; two on one pair (the same TAP name or
// the same synthetic, by MAC) take each other's backends and, with queues > 1,
// attach more queues to the other's TAP. A daemon takes these locks before it
// touches the directory or the pair; the kernel drops them when it exits, also
// by SIGKILL, so a restart never finds a stale one.
//
// Thread: the daemon's thread.
#pragma once

#include <string>
#include <vector>

#include "base/UniqueFd.hpp"
#include "tvf/MacAddress.hpp"
#include "tvf/Result.hpp"

namespace tvf {

// flock(LOCK_EX) on DIR/tvfd.lock (the directory is created if missing), which
// then holds this process's pid. Errors: EBUSY "another tvfd (pid N) uses the
// state directory DIR ..." when a live process holds it; otherwise the errno of
// open/flock.
Result<UniqueFd> lockStateDirectory(const std::string& dir);

// A name in this network namespace's abstract AF_UNIX namespace: unique per
// namespace (one tvf0 per namespace, as for interfaces), released with the
// last descriptor. Errors: EBUSY "another tvfd in this network namespace runs
// pair PAIR (pid N)" / "... a pair on the synthetic MAC (pid N)" when a root
// process holds the name; otherwise socket/bind's errno. Abstract names have
// no permissions: one held by an unprivileged process (it cannot be a tvfd)
// is logged and skipped, and the result is then an empty descriptor.
Result<UniqueFd> lockPairName(const std::string& pair);
Result<UniqueFd> lockSyntheticMac(const MacAddress& mac);

// Who holds a socket bound to the abstract name `path` (without its
// leading NUL) in this network namespace: /proc/net/unix for its inodes,
// then every /proc/PID/fd. Processes this tvfd cannot see are missing.
struct LockHolder {
  int pid = 0;
  long uid = -1;  // effective uid; -1 when unknown
};
std::vector<LockHolder> abstractNameHolders(const std::string& path);

}  // namespace tvf
