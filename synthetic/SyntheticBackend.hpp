// The synthetic (paravirtual) path: finding the pair's synthetic netdev by
// name or MAC. Its ports come from ports/PacketBackend.
#pragma once

#include <map>
#include <optional>

#include "tvf/Config.hpp"
#include "tvf/LinkEvent.hpp"

namespace tvf {

// The synthetic among `links`: by name, or by MAC when the config says
// mac:... (then the first Ethernet link with that MAC that is not a TAP,
// VLAN, bridge or bond and has no master).
std::optional<LinkInfo> findSynthetic(const PairConfig& cfg, const std::map<int, LinkInfo>& links);

}  // namespace tvf
