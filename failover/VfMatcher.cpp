#include "failover/VfMatcher.hpp"

#include <array>

namespace tvf {

VfVerdict classifyVf(const VfMatchContext& ctx, const LinkInfo& link) {
  static constexpr std::array<std::string_view, 11> kExcluded = {
      "vlan", "bridge", "bond", "team", "macvlan", "macvtap", "ipvlan", "ipvtap", "tun", "vxlan",
      "failover"};
  if (link.mac != ctx.mac) return VfVerdict::WrongMac;
  if (link.arpType != kArphrdEther) return VfVerdict::NotEthernet;
  if (link.ifindex == ctx.syntheticIndex) return VfVerdict::IsSynthetic;
  if (link.ifindex == ctx.tapIndex) return VfVerdict::IsTap;
  for (auto k : kExcluded) {
    if (link.kind == k) return VfVerdict::ExcludedKind;
  }
  if (link.masterIndex != 0) return VfVerdict::Enslaved;
  return VfVerdict::Candidate;
}

std::string_view verdictName(VfVerdict v) {
  switch (v) {
    case VfVerdict::Candidate: return "candidate";
    case VfVerdict::WrongMac: return "wrong-mac";
    case VfVerdict::NotEthernet: return "not-ethernet";
    case VfVerdict::IsSynthetic: return "is-synthetic";
    case VfVerdict::IsTap: return "is-tap";
    case VfVerdict::ExcludedKind: return "excluded-kind";
    case VfVerdict::Enslaved: return "enslaved";
  }
  return "?";
}

}  // namespace tvf
