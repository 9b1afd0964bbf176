// The operator's offload choices on tvf0, kept across TUNSETOFFLOAD.
//
// TUNSETOFFLOAD rewrites the TAP's wanted (requested) features, so an
// `ethtool -K tvf0 tso off` would be undone by the next switch. Before each
// TUNSETOFFLOAD the TAP's requested bits are read (ETHTOOL_GFEATURES) and
// compared with what tvf left there last time: a bit that went off was
// turned off by the operator, one that came back on was turned on again.
// After TUNSETOFFLOAD the bits the operator turned off are cleared again
// (ETHTOOL_SFEATURES). What the operator turns on is never forced on: tvf0
// still advertises no more than both paths can carry.
//
// Feature bits are the kernel's ETH_SS_FEATURES indexes, in 32-bit words
// (word i holds bits 32*i .. 32*i+31), as ETHTOOL_GFEATURES returns them.
//
// Thread: the control thread (TapDevice's).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tvf/Result.hpp"

namespace tvf {

using FeatureWords = std::vector<std::uint32_t>;

class OffloadIntent {
 public:
  // The TAP's requested bits before tvf rewrites them: records the
  // operator's changes since applied() last saw them. The first call only
  // has nothing to compare with.
  void observe(const FeatureWords& requested);
  // Requested bits the operator turned off that are on now: what to clear.
  FeatureWords toClear(const FeatureWords& requested) const;
  // The requested bits tvf left on the TAP.
  void applied(const FeatureWords& requested) { last_ = requested; }
  const FeatureWords& operatorOff() const { return off_; }
  // What a restarted daemon needs to go on where the last one stopped on a
  // persistent TAP: the bits tvf left, and those the operator turned off.
  const FeatureWords& lastApplied() const { return last_; }
  void restore(FeatureWords lastApplied, FeatureWords operatorOff) {
    last_ = std::move(lastApplied);
    off_ = std::move(operatorOff);
  }

 private:
  FeatureWords last_;
  FeatureWords off_;
};

// The operator's ceiling on one of tvf0's GSO limits (gso_max_size or
// gso_max_segs), kept across switches the same way: tvf rewrites the limit
// to what both paths allow on every switch, which would undo an
// `ip link set tvf0 gso_max_size 16384`. A value other than the one tvf
// wrote last is the operator's, and stays a ceiling (set it to the TAP's
// maximum to lift it). Nothing is known before tvf's first write.
class GsoLimitIntent {
 public:
  // `now`: the limit tvf0 has; `paths`: what both paths allow. Returns the
  // limit to write: `paths`, or the operator's value when lower.
  std::uint32_t next(std::uint32_t now, std::uint32_t paths);
  void applied(std::uint32_t written) { written_ = written; }
  std::uint32_t operatorCeiling() const { return operator_; }  // 0: none seen
  std::uint32_t written() const { return written_; }            // 0: nothing yet
  // A restarted daemon on a persistent TAP goes on from the last one's.
  void restore(std::uint32_t written, std::uint32_t operatorCeiling) {
    written_ = written;
    operator_ = operatorCeiling;
  }

 private:
  std::uint32_t written_ = 0;   // 0: tvf has written nothing yet
  std::uint32_t operator_ = 0;  // 0: none
};

// ETHTOOL_GFEATURES on `ifname`: the requested bits.
// Errors: ENODEV (no such link), EOPNOTSUPP.
Result<FeatureWords> readRequestedFeatures(const std::string& ifname);
// ETHTOOL_SFEATURES on `ifname`: the bits in `mask` requested off.
// Errors: ENODEV, EINVAL (a bit the kernel does not know), EPERM.
Status clearRequestedFeatures(const std::string& ifname, const FeatureWords& mask);
// The ETH_SS_FEATURES names of the bits in `mask`, for the log.
std::vector<std::string> featureNames(const std::string& ifname, const FeatureWords& mask);

}  // namespace tvf
