#include "VfPortFactory.hpp"

#include <filesystem>
#include <fstream>

#include "Log.hpp"
#include "PacketSocketPort.hpp"
#include "VerbsRawPort.hpp"
#ifdef TVF_WITH_VERBS
#include "IbverbsRawQueue.hpp"
#endif

namespace tvf {

std::string rdmaDeviceOf(const std::string& ifname) {
  std::error_code ec;
  const std::filesystem::path dir = "/sys/class/net/" + ifname + "/device/infiniband";
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) return e.path().filename().string();
  return "";
}

bool verbsBuilt() {
#ifdef TVF_WITH_VERBS
  return true;
#else
  return false;
#endif
}

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

namespace {

// The RDMA port of a netdev: its dev_port plus one (mlx5 VFs have one
// port; a mana device has one per vPort).
std::uint8_t rdmaPortOf(const std::string& ifname) {
  std::ifstream f("/sys/class/net/" + ifname + "/dev_port");
  unsigned devPort = 0;
  if (f >> devPort && devPort < 255) return static_cast<std::uint8_t>(devPort + 1);
  return 1;
}

}  // namespace

Result<PortPtr> openVfPort(const PairConfig& cfg, const LinkInfo& vf, unsigned, unsigned queues) {
  const std::string rdma = rdmaDeviceOf(vf.ifname);
  auto mechanism = chooseVfDatapath(cfg.vfDatapath, vf.ifname, rdma, verbsBuilt(), queues);
  if (!mechanism) return mechanism.error();
#ifdef TVF_WITH_VERBS
  if (*mechanism == VfDatapath::Verbs) {
    IbverbsRawQueueProvider provider;
    RawQueueSpec spec;
    spec.rdmaDevice = rdma;
    spec.portNum = rdmaPortOf(vf.ifname);
    spec.mac = vf.mac;
    auto port = VerbsRawPort::open(provider, spec, VerbsPortOptions{});
    if (port || cfg.vfDatapath == VfDatapath::Verbs) return port;
    // auto: a device without raw-packet QPs still has its netdev. Once per
    // attach, never per packet.
    moduleLogger("vf")->warn("{}: verbs port on {} failed ({}); using AF_PACKET", vf.ifname, rdma,
                             port.error().describe());
  }
#endif
  PacketPortOptions opts;
  if (queues > 1) opts.fanoutGroup = vf.ifindex & 0xffff;
  return PacketSocketPort::open(vf.ifindex, opts);
}

}  // namespace tvf
