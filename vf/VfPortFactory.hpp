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
// True when this tvfd has the verbs datapath (built with rdma-core).
bool verbsBuilt();

// Which datapath a VF gets. auto: verbs when built, the VF has an RDMA
// device and the pair has one queue; otherwise packet. verbs: an error
// (EOPNOTSUPP, ENODEV, EINVAL) saying why it cannot be had, never a silent
// fallback to a datapath the operator did not ask for.
Result<VfDatapath> chooseVfDatapath(VfDatapath wanted, const std::string& ifname, const std::string& rdmaDevice,
                                    bool verbsAvailable, unsigned queues);

Result<PortPtr> openVfPort(const PairConfig& cfg, const LinkInfo& vf, unsigned queue, unsigned queues);

}  // namespace tvf
