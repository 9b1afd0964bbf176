#include "vf/PairBackendRegistry.hpp"

namespace tvf {

Result<VfDatapath> chooseVfDatapath(VfDatapath wanted, const std::string& ifname, const std::string& rdmaDevice,
                                    bool verbsAvailable, unsigned queues) {
  switch (wanted) {
    case VfDatapath::Packet:
      return VfDatapath::Packet;
    case VfDatapath::Auto:
      return verbsAvailable && !rdmaDevice.empty() && queues == 1 ? VfDatapath::Verbs : VfDatapath::Packet;
    case VfDatapath::Verbs:
      if (!verbsAvailable)
        return Error{EOPNOTSUPP, "vf_datapath verbs for " + ifname +
                                     ": this tvfd was built without rdma-core (TVF_WITH_VERBS=OFF)"};
      if (rdmaDevice.empty())
        return Error{ENODEV, "vf_datapath verbs for " + ifname + ": it has no RDMA device (mlx5 or mana VF needed)"};
      if (queues != 1) return Error{EINVAL, "vf_datapath verbs for " + ifname + " takes queues: 1"};
      return VfDatapath::Verbs;
  }
  return VfDatapath::Packet;
}

Result<Backend*> PairBackendRegistry::vf(const LinkInfo& vf) {
  auto mechanism = chooseVfDatapath(wanted_, vf.ifname, rdmaDeviceOf(vf.ifname), verbsBuilt(), queues_);
  if (!mechanism) return mechanism.error();
  return *mechanism == VfDatapath::Verbs ? static_cast<Backend*>(&verbs_) : static_cast<Backend*>(&packet_);
}

}  // namespace tvf
