// The verbs backend: an ibverbs raw-packet QP on the VF's RDMA device
// (mlx5, mana), through VerbsRawPort. One queue. Where the QP lacks TSO or
// checksum offload, VerbsRawPort segments and checksums in software, so it
// carries every offload tvf0 may advertise.
//
// Built with TVF_WITH_VERBS only; without it probe() says EOPNOTSUPP.
// IbverbsRawQueue has never run on an RDMA device (none here).
#pragma once

#include <string>

#include "tvf/Backend.hpp"

namespace tvf {

// The RDMA device behind a netdev (/sys/class/net/IF/device/infiniband/*), or "".
std::string rdmaDeviceOf(const std::string& ifname);
// True when this tvfd has the verbs backend (built with rdma-core).
bool verbsBuilt();

class VerbsBackend final : public Backend {
 public:
  std::string_view mechanism() const override { return "verbs"; }
  // Errors: EOPNOTSUPP (built without rdma-core), ENODEV (no RDMA device
  // behind the netdev), EINVAL (more than one queue).
  Result<BackendFeatures> probe(const LinkInfo& link, unsigned queues) override;
  Result<PortPtr> open(const LinkInfo& link, unsigned queue, const BackendFeatures& negotiated) override;
};

}  // namespace tvf
