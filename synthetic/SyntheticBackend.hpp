// The synthetic (paravirtual) path: finding the pair's synthetic netdev by
// name or MAC, and opening its packet-socket port per queue.
#pragma once

#include <map>
#include <optional>

#include "tvf/Config.hpp"
#include "tvf/LinkEvent.hpp"
#include "tvf/Port.hpp"
#include "tvf/Result.hpp"

namespace tvf {

// The synthetic among `links`: by name, or by MAC when the config says
// mac:... (then the first Ethernet link with that MAC that is not a TAP,
// VLAN, bridge or bond and has no master).
std::optional<LinkInfo> findSynthetic(const PairConfig& cfg, const std::map<int, LinkInfo>& links);

Result<PortPtr> openSyntheticPort(const PairConfig& cfg, const LinkInfo& link, unsigned queue, unsigned queues);

}  // namespace tvf
