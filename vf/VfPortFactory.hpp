// Opens a VF's datapath port: an AF_PACKET socket on the VF netdev, or an
// ibverbs raw-packet QP when built with TVF_WITH_VERBS and the VF has an
// RDMA device (mlx5, mana). vf_datapath picks: auto | packet | verbs.
#pragma once

#include <string>

#include "tvf/Config.hpp"
#include "tvf/LinkEvent.hpp"
#include "tvf/Port.hpp"
#include "tvf/Result.hpp"

namespace tvf {

// The RDMA device behind a netdev (/sys/class/net/IF/device/infiniband/*), or "".
std::string rdmaDeviceOf(const std::string& ifname);
bool verbsBuilt();

Result<PortPtr> openVfPort(const PairConfig& cfg, const LinkInfo& vf, unsigned queue, unsigned queues);

}  // namespace tvf
