// What the pair engine (failover/Pair) acts on. Production implementations
// live in src/ (netlink, TAP) and datapath/; tests use tests/fakes/.
//
// Thread: every method is called on the control thread only.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tvf/Capabilities.hpp"
#include "tvf/Datapath.hpp"
#include "tvf/LinkEvent.hpp"
#include "tvf/MacAddress.hpp"
#include "tvf/PathCounters.hpp"
#include "tvf/Result.hpp"

namespace tvf {

// Kernel-side operations on a backend netdev (synthetic or VF).
// Errors: ENODEV when the netdev vanished, EINVAL/ERANGE when it refuses a
// value (an MTU out of range), EPERM without CAP_NET_ADMIN.
class LinkControl {
 public:
  virtual ~LinkControl() = default;
  virtual Result<Capabilities> readCapabilities(int ifindex) = 0;
  virtual Status setMtu(int ifindex, std::uint32_t mtu) = 0;
  virtual Status setUp(int ifindex, bool up) = 0;
  virtual Status setPromisc(int ifindex, bool on) = 0;
  virtual Status setAllmulti(int ifindex, bool on) = 0;
  // Replaces the link-layer multicast list that tvf added to the netdev.
  virtual Status setMulticast(int ifindex, const std::vector<MacAddress>& groups) = 0;
  // Claims a backend: no addresses, IPv6 off, stack ingress dropped after
  // the packet taps. Idempotent. releaseBackend restores what was there.
  virtual Status claimBackend(int ifindex) = 0;
  virtual Status releaseBackend(int ifindex) = 0;
  // The netdev's state now (RTM_GETLINK): a link event may be older than
  // tvf's own last write (one queued before the pair started). ENODEV when
  // it is gone; the default knows nothing (EOPNOTSUPP) and the caller keeps
  // the event's view.
  virtual Result<LinkInfo> currentLink(int ifindex) {
    return Error{EOPNOTSUPP, "current link of ifindex " + std::to_string(ifindex)};
  }
};

// The TAP the OS uses.
class TapFront {
 public:
  virtual ~TapFront() = default;
  virtual int ifindex() const = 0;
  // Offloads via TUNSETOFFLOAD, GSO limits via rtnetlink.
  virtual Status applyCapabilities(const Capabilities& caps) = 0;
  virtual Status setCarrier(bool on) = 0;
  virtual Status setMtu(std::uint32_t mtu) = 0;
  // SIOCSIFHWADDR. Errors: EBUSY, EADDRNOTAVAIL, EPERM.
  virtual Status setMac(const MacAddress& mac) = 0;
  // SIOCGIFHWADDR: the MAC the TAP has now (a link event may be older).
  // Errors: ENODEV.
  virtual Result<MacAddress> readMac() = 0;
  // The offloads the operator turned off on the TAP (ethtool -K), which
  // applyCapabilities() keeps off, named as Capabilities names offloads
  // (`ethtool -k`'s names: "generic-segmentation-offload"), or by the
  // kernel's feature string for a feature tvf does not know; empty where
  // none or unknown.
  virtual std::vector<std::string> operatorOffloadsOff() { return {}; }
  // The GSO limits applyCapabilities() last wrote on the TAP, {bytes,
  // segments}: the paths' limits under any lower ones the operator set
  // (`ip link set tvf0 gso_max_size N`); {0, 0} before the first write.
  virtual std::pair<std::uint32_t, std::uint32_t> gsoLimitsWritten() const { return {0, 0}; }
};

// Proves that the path behind a fresh VF carries frames both ways before
// TX moves to it: a VF's carrier says its own link is up, not that the
// switch port behind it forwards yet (a Linux bridge enables a new port
// from its link watch, on its own time, and a disabled port drops frames
// silently). The production prover (src/PathProbe) asks the TAP's
// neighbours over ARP through the VF and listens there for their answers.
class PathProver {
 public:
  virtual ~PathProver() = default;
  // Starts proving the path through `vf` for the pair's VF generation
  // `generation`; success comes back as Pair::onPathProven(generation).
  // False when there is nothing to prove it with (no IPv4 address on the
  // TAP, no neighbour with a known MAC) or the probe cannot be sent: the
  // pair then moves TX after the fixed takeover delay.
  virtual bool startProof(const LinkInfo& vf, std::uint64_t generation) = 0;
  // Ends the proof under way, if any (TX moved, the VF left). Idempotent.
  virtual void stopProof() = 0;
};

}  // namespace tvf
