// The VF candidates a pair knows: every matching VF present, with when it
// last appeared or changed, and the one `tvfctl attach IFNAME` prefers.
// The attach wait runs from a candidate's `since`: a fresh VF waits all of
// attach_wait, one offered later (after `attach`, or when the attached VF
// left) only what is left of it, so `tvf-migrate post` takes a VF that
// came back during the move at once.
//
// Thread: the owning Pair's (the control thread). Pure bookkeeping.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tvf/Clock.hpp"
#include "tvf/LinkEvent.hpp"

namespace tvf {

class CandidateSet {
 public:
  // A matching VF appeared or changed at `now`: its wait starts again.
  void offer(const LinkInfo& vf, Clock::TimePoint now) { candidates_[vf.ifindex] = {vf, now}; }
  // A candidate's link changed in a way that does not restart its wait.
  void refresh(const LinkInfo& link);
  void remove(int ifindex) { candidates_.erase(ifindex); }
  bool empty() const { return candidates_.empty(); }
  bool knows(const std::string& ifname) const;
  // When the candidate last appeared or changed, if it is one.
  std::optional<Clock::TimePoint> since(int ifindex) const;

  // tvfctl attach IFNAME: only that candidate may be taken; nullopt: any.
  void prefer(std::optional<std::string> ifname) { preferred_ = std::move(ifname); }
  const std::optional<std::string>& preferred() const { return preferred_; }
  // True when `vf` may be taken under the preference.
  bool accepts(const LinkInfo& vf) const { return !preferred_ || *preferred_ == vf.ifname; }
  // The candidate to take next: the first accepted one by ifindex.
  std::optional<LinkInfo> pick() const;
  // Every candidate's ifname but `exceptIfindex`'s, by ifindex.
  std::vector<std::string> names(int exceptIfindex = 0) const;

 private:
  struct Candidate {
    LinkInfo link;
    Clock::TimePoint since;
  };
  std::map<int, Candidate> candidates_;
  std::optional<std::string> preferred_;
};

}  // namespace tvf
