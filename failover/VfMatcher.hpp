// Decides whether a netdev is a VF candidate for a pair (DESIGN.md):
// Ethernet, the pair's MAC, and none of: the synthetic, the TAP, a VLAN,
// bridge, bond, team, macvlan/macvtap, ipvlan, tun, or a bridge/bond port.
// Pure logic, so it sits beside the state machine and is tested with it.
#pragma once

#include <string_view>

#include "tvf/LinkEvent.hpp"
#include "tvf/MacAddress.hpp"

namespace tvf {

enum class VfVerdict {
  Candidate,
  WrongMac,
  NotEthernet,
  IsSynthetic,
  IsTap,
  ExcludedKind,
  Enslaved,
};

struct VfMatchContext {
  MacAddress mac;       // the synthetic's MAC
  int syntheticIndex = 0;
  int tapIndex = 0;
};

VfVerdict classifyVf(const VfMatchContext& ctx, const LinkInfo& link);
std::string_view verdictName(VfVerdict v);

}  // namespace tvf
