#include "ports/VerbsBackend.hpp"

#include <filesystem>
#include <fstream>

#include "ports/VerbsRawPort.hpp"
#ifdef TVF_WITH_VERBS
#include "ports/IbverbsRawQueue.hpp"
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

namespace {

// The RDMA port of a netdev: its dev_port plus one (mlx5 VFs have one
// port; a mana device has one per vPort).
[[maybe_unused]] std::uint8_t rdmaPortOf(const std::string& ifname) {
  std::ifstream f("/sys/class/net/" + ifname + "/dev_port");
  unsigned devPort = 0;
  if (f >> devPort && devPort < 255) return static_cast<std::uint8_t>(devPort + 1);
  return 1;
}

}  // namespace

Result<BackendFeatures> VerbsBackend::probe(const LinkInfo& link, unsigned queues) {
  if (!verbsBuilt())
    return Error{EOPNOTSUPP, "vf_datapath verbs for " + link.ifname +
                                 ": this tvfd was built without rdma-core (TVF_WITH_VERBS=OFF)"};
  if (rdmaDeviceOf(link.ifname).empty())
    return Error{ENODEV, "vf_datapath verbs for " + link.ifname + ": it has no RDMA device (mlx5 or mana VF needed)"};
  if (queues != 1) return Error{EINVAL, "vf_datapath verbs for " + link.ifname + " takes queues: 1"};
  auto f = BackendFeatures::full("verbs");
  f.queues = 1;
  return f;
}

Result<PortPtr> VerbsBackend::open(const LinkInfo& link, unsigned, const BackendFeatures&) {
#ifdef TVF_WITH_VERBS
  IbverbsRawQueueProvider provider;
  RawQueueSpec spec;
  spec.rdmaDevice = rdmaDeviceOf(link.ifname);
  spec.portNum = rdmaPortOf(link.ifname);
  spec.mac = link.mac;
  return VerbsRawPort::open(provider, spec, VerbsPortOptions{});
#else
  return Error{EOPNOTSUPP, "verbs backend for " + link.ifname + ": built without rdma-core"};
#endif
}

}  // namespace tvf
