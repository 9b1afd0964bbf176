// Choosing the VF's backend: vf_datapath (auto | packet | verbs) against
// what this tvfd was built with and what the VF has (an RDMA device).
// PairBackendRegistry is one pair's BackendRegistry: AF_PACKET for the
// synthetic, the chosen mechanism for each VF.
//
// Thread: the control thread.
#pragma once

#include <string>

#include "ports/PacketBackend.hpp"
#include "ports/VerbsBackend.hpp"
#include "tvf/Backend.hpp"
#include "tvf/Config.hpp"

namespace tvf {

// Which backend a VF gets. auto: verbs when built, the VF has an RDMA
// device and the pair has one queue; otherwise packet. verbs: an error
// (EOPNOTSUPP, ENODEV, EINVAL) saying why it cannot be had, never a silent
// fallback to a backend the operator did not ask for.
Result<VfDatapath> chooseVfDatapath(VfDatapath wanted, const std::string& ifname, const std::string& rdmaDevice,
                                    bool verbsAvailable, unsigned queues);

class PairBackendRegistry final : public BackendRegistry {
 public:
  PairBackendRegistry(VfDatapath wanted, unsigned queues) : wanted_(wanted), queues_(queues) {}
  Backend& synthetic() override { return packet_; }
  Result<Backend*> vf(const LinkInfo& vf) override;
  // auto only: when the verbs port cannot be opened the VF still has its
  // netdev, so AF_PACKET serves it (logged once per attach).
  Backend* fallbackVf() override { return wanted_ == VfDatapath::Auto ? &packet_ : nullptr; }

 private:
  VfDatapath wanted_;
  unsigned queues_;
  PacketBackend packet_;
  VerbsBackend verbs_;
};

}  // namespace tvf
