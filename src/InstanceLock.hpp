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
// pair PAIR" / "... a pair on the synthetic MAC"; otherwise socket/bind's errno.
Result<UniqueFd> lockPairName(const std::string& pair);
Result<UniqueFd> lockSyntheticMac(const MacAddress& mac);

}  // namespace tvf
