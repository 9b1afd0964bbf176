// Reads a netdev's active offload features through the ethtool ioctl
// (ETHTOOL_GSSET_INFO / GSTRINGS / GFEATURES) and maps them to tvf Offloads.
#pragma once

#include <string>

#include "tvf/Capabilities.hpp"
#include "tvf/Result.hpp"

namespace tvf {

Result<OffloadSet> readActiveOffloads(const std::string& ifname);

}  // namespace tvf
