// The AF_PACKET backend: a TPACKET_V2 RX ring and PACKET_VNET_HDR sends on
// the netdev (PacketSocketPort). With the vnet header it carries every
// offload end to end, so it never narrows tvf0's features. More than one
// queue: the ports join one PACKET_FANOUT_HASH group per netdev.
#pragma once

#include "tvf/Backend.hpp"

namespace tvf {

class PacketBackend final : public Backend {
 public:
  std::string_view mechanism() const override { return "packet"; }
  Result<BackendFeatures> probe(const LinkInfo& link, unsigned queues) override;
  Result<PortPtr> open(const LinkInfo& link, unsigned queue, const BackendFeatures& negotiated) override;
};

}  // namespace tvf
