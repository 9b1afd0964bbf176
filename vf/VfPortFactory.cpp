#include "VfPortFactory.hpp"

#include <filesystem>

#include "PacketSocketPort.hpp"

namespace tvf {

std::string rdmaDeviceOf(const std::string& ifname) {
  std::error_code ec;
  const std::filesystem::path dir = "/sys/class/net/" + ifname + "/device/infiniband";
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) return e.path().filename().string();
  return "";
}

bool verbsBuilt() { return false; }  // the verbs raw-packet port is not written yet

Result<PortPtr> openVfPort(const PairConfig& cfg, const LinkInfo& vf, unsigned, unsigned queues) {
  if (cfg.vfDatapath == VfDatapath::Verbs) {
    // The verbs raw-packet port is not implemented yet; say so rather than
    // silently falling back to another datapath the operator did not ask for.
    return Error{EOPNOTSUPP, "vf_datapath verbs requested for " + vf.ifname +
                                 ", but this tvfd has no verbs datapath (use auto or packet)"};
  }
  PacketPortOptions opts;
  if (queues > 1) opts.fanoutGroup = vf.ifindex & 0xffff;
  return PacketSocketPort::open(vf.ifindex, opts);
}

}  // namespace tvf
