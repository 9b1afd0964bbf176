#include "failover/CandidateSet.hpp"

#include <algorithm>

namespace tvf {

void CandidateSet::refresh(const LinkInfo& link) {
  if (auto c = candidates_.find(link.ifindex); c != candidates_.end()) c->second.link = link;
}

bool CandidateSet::knows(const std::string& ifname) const {
  return std::any_of(candidates_.begin(), candidates_.end(),
                     [&](const auto& c) { return c.second.link.ifname == ifname; });
}

std::optional<Clock::TimePoint> CandidateSet::since(int ifindex) const {
  if (auto c = candidates_.find(ifindex); c != candidates_.end()) return c->second.since;
  return std::nullopt;
}

std::optional<LinkInfo> CandidateSet::pick() const {
  for (const auto& [index, candidate] : candidates_) {
    if (accepts(candidate.link)) return candidate.link;
  }
  return std::nullopt;
}

std::vector<std::string> CandidateSet::names(int exceptIfindex) const {
  std::vector<std::string> out;
  for (const auto& [ifindex, c] : candidates_)
    if (ifindex != exceptIfindex) out.push_back(c.link.ifname);
  return out;
}

}  // namespace tvf
