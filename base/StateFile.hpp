// Small pieces for the daemon's state files and its periodic repairs.
//
// Thread: any (no shared state).
#pragma once

#include <chrono>
#include <string>

#include "tvf/Result.hpp"

namespace tvf {

// Writes `text` to `path` through path.tmp and a rename: a reader, or a
// daemon restarted after SIGKILL, sees the old file or the new one, never
// half of one. Errors: the errno of the write or the rename, with the path.
Status writeFileAtomically(const std::string& path, const std::string& text);

// The whole of the regular file `path` (at most 16 MiB: no state file of
// tvf's comes near). Errors: ENOENT when there is none; EISDIR, EINVAL (not
// a regular file), EFBIG, or the errno of open/read. Never throws.
Result<std::string> readStateFile(const std::string& path);

// The pause before trying a failed repair again: 1 s, then doubling up to
// 30 s; reset() after a success. Used where a check runs every 250 ms and
// a failure would otherwise be retried (and logged) at that rate.
class RetryBackoff {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  bool due(TimePoint now) const { return now >= retryAt_; }
  // Records a failure at `now`; true for the first since the last reset().
  bool failed(TimePoint now) {
    const bool first = pause_ == std::chrono::milliseconds{};
    pause_ = first ? std::chrono::milliseconds(1000) : std::min(pause_ * 2, std::chrono::milliseconds(30000));
    retryAt_ = now + pause_;
    return first;
  }
  void reset() {
    pause_ = {};
    retryAt_ = {};
  }

 private:
  std::chrono::milliseconds pause_{};
  TimePoint retryAt_{};
};

}  // namespace tvf
