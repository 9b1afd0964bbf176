#include "synthetic/SyntheticBackend.hpp"

namespace tvf {

std::optional<LinkInfo> findSynthetic(const PairConfig& cfg, const std::map<int, LinkInfo>& links) {
  for (const auto& [index, l] : links) {
    if (!cfg.syntheticMac && l.ifname == cfg.synthetic) return l;
  }
  if (!cfg.syntheticMac) return std::nullopt;
  for (const auto& [index, l] : links) {
    if (l.mac != *cfg.syntheticMac || l.arpType != kArphrdEther || l.masterIndex != 0) continue;
    if (l.kind == "tun" || l.kind == "vlan" || l.kind == "bridge" || l.kind == "bond" || l.kind == "macvlan") continue;
    if (l.ifname == cfg.name) continue;
    return l;
  }
  return std::nullopt;
}

}  // namespace tvf
