// A backend mechanism of the user datapath (AF_PACKET socket, verbs raw
// QP; AF_XDP later): it probes a link, says what it can carry there, and
// opens one Port per queue for what was negotiated. After bhyve's
// network-backend abstraction (net_backends.c): the frontend (the TAP)
// learns the backend's features before it advertises its own.
//
// Thread: the control thread. Ports it opens are then used by workers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tvf/Capabilities.hpp"
#include "tvf/LinkEvent.hpp"
#include "tvf/Port.hpp"
#include "tvf/Result.hpp"

namespace tvf {

// What a backend can carry on one link. The offloads use the netdev names
// (Offload): TX checksum (TxChecksumIpGeneric), TSO4/6, USO
// (UdpSegmentation), RX checksum-valid (RxChecksum).
struct BackendFeatures {
  std::string mechanism;                       // "packet", "verbs"
  bool vnetHeader = true;                      // frames carry the 10-byte virtio_net_hdr
  OffloadSet offloads;                         // what its TX and RX keep
  std::uint32_t maxFrame = kMaxFrameLen;       // bytes, vnet header included
  unsigned queues = 1;                         // ports it can open on the link

  // The limits this backend puts on tvf0, as Capabilities to intersect
  // with the netdevs': its offloads (all of them without a vnet header
  // cleared: no metadata, no offload), and a GSO size that fits maxFrame.
  Capabilities asCapabilities() const;
  // Everything a vnet-header backend carries (AF_PACKET with PACKET_VNET_HDR).
  static BackendFeatures full(std::string mechanism);
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view mechanism() const = 0;
  // What the mechanism can carry on `link` with `queues` queues. Errors:
  // ENODEV (the link is gone or lacks the device the mechanism needs),
  // EOPNOTSUPP (not built in), EINVAL (queues it cannot open).
  virtual Result<BackendFeatures> probe(const LinkInfo& link, unsigned queues) = 0;
  // Opens the port of `queue` (0-based, of `negotiated.queues`). Errors as
  // the port's own open: ENODEV/ENXIO (link gone), EPERM, ENOMEM.
  virtual Result<PortPtr> open(const LinkInfo& link, unsigned queue, const BackendFeatures& negotiated) = 0;
};

using BackendPtr = std::unique_ptr<Backend>;

// Picks the backend of each side of one pair (vf_datapath picks the VF's).
class BackendRegistry {
 public:
  virtual ~BackendRegistry() = default;
  virtual Backend& synthetic() = 0;
  // The VF's backend for `vf`. Errors: why the configured mechanism cannot
  // be had (EOPNOTSUPP, ENODEV, EINVAL), never a silent fallback to one the
  // operator did not ask for.
  virtual Result<Backend*> vf(const LinkInfo& vf) = 0;
  // The backend to try when the chosen VF backend's port cannot be opened,
  // or nullptr when the configuration asked for that one and no other.
  virtual Backend* fallbackVf() { return nullptr; }
};

using BackendRegistryPtr = std::unique_ptr<BackendRegistry>;

}  // namespace tvf
