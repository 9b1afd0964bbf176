// Reads a netdev's active offload features through the ethtool ioctl
// (ETHTOOL_GSSET_INFO / GSTRINGS / GFEATURES) and maps them to tvf Offloads.
#pragma once

#include <cstdint>
#include <string>

#include "tvf/Capabilities.hpp"
#include "tvf/Result.hpp"

namespace tvf {

Result<OffloadSet> readActiveOffloads(const std::string& ifname);

// One SIOCETHTOOL request on `fd` (any AF_INET socket) for `ifname`; `data`
// is the ethtool command struct. Errors: the ioctl's errno, with `what`.
Status ethtoolRequest(int fd, const std::string& ifname, void* data, const char* what);
// How many feature bits the kernel has (ETHTOOL_GSSET_INFO, ETH_SS_FEATURES).
Result<std::uint32_t> ethtoolFeatureCount(int fd, const std::string& ifname);

}  // namespace tvf
