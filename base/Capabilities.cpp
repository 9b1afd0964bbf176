// Capability naming, the kernel's feature fix-ups, intersection and the
// mapping to TUN_F_* flags. Pure functions: no I/O.
#include "tvf/Capabilities.hpp"

#include "tvf/Backend.hpp"

#include <algorithm>
#include <array>

namespace tvf {
namespace {

struct OffloadNames {
  Offload offload;
  std::string_view ethtool;  // `ethtool -k` line
  std::string_view kernel;   // ETH_SS_FEATURES string
};

constexpr std::array<OffloadNames, kOffloadCount> kNames{{
    {Offload::TxChecksumIpGeneric, "tx-checksum-ip-generic", "tx-checksum-ip-generic"},
    {Offload::TxChecksumIpv4, "tx-checksum-ipv4", "tx-checksum-ipv4"},
    {Offload::TxChecksumIpv6, "tx-checksum-ipv6", "tx-checksum-ipv6"},
    {Offload::ScatterGather, "tx-scatter-gather", "tx-scatter-gather"},
    {Offload::Tso4, "tx-tcp-segmentation", "tx-tcp-segmentation"},
    {Offload::Tso6, "tx-tcp6-segmentation", "tx-tcp6-segmentation"},
    {Offload::TsoEcn, "tx-tcp-ecn-segmentation", "tx-tcp-ecn-segmentation"},
    {Offload::TsoMangleId, "tx-tcp-mangleid-segmentation", "tx-tcp-mangleid-segmentation"},
    {Offload::UdpSegmentation, "tx-udp-segmentation", "tx-udp-segmentation"},
    {Offload::Gso, "generic-segmentation-offload", "tx-generic-segmentation"},
    {Offload::RxChecksum, "rx-checksumming", "rx-checksum"},
    {Offload::Gro, "generic-receive-offload", "rx-gro"},
    {Offload::Lro, "large-receive-offload", "rx-lro"},
    {Offload::RxVlan, "rx-vlan-offload", "rx-vlan-hw-parse"},
    {Offload::TxVlan, "tx-vlan-offload", "tx-vlan-hw-insert"},
}};

bool anyTxChecksum(const OffloadSet& s) {
  return s.has(Offload::TxChecksumIpGeneric) || s.has(Offload::TxChecksumIpv4) ||
         s.has(Offload::TxChecksumIpv6);
}

}  // namespace

std::string_view offloadName(Offload o) { return kNames[static_cast<std::size_t>(o)].ethtool; }
std::string_view offloadKernelName(Offload o) { return kNames[static_cast<std::size_t>(o)].kernel; }

std::optional<Offload> offloadFromName(std::string_view name) {
  for (const auto& n : kNames) {
    if (n.ethtool == name || n.kernel == name) return n.offload;
  }
  return std::nullopt;
}

std::vector<std::string> OffloadSet::names() const {
  std::vector<std::string> out;
  for (const auto& n : kNames) {
    if (has(n.offload)) out.emplace_back(n.ethtool);
  }
  return out;
}

OffloadSet fixOffloadDependencies(OffloadSet s) {
  // Mixed HW and IP checksum settings: the generic one wins.
  if (s.has(Offload::TxChecksumIpGeneric)) {
    s.clear(Offload::TxChecksumIpv4);
    s.clear(Offload::TxChecksumIpv6);
  }
  const bool hw = s.has(Offload::TxChecksumIpGeneric);
  // TSO requires SG.
  if (!s.has(Offload::ScatterGather)) {
    for (Offload o : {Offload::Tso4, Offload::Tso6, Offload::TsoEcn, Offload::TsoMangleId})
      s.clear(o);
  }
  // TSO4 requires an IPv4-capable TX checksum; it takes ECN with it.
  if (s.has(Offload::Tso4) && !hw && !s.has(Offload::TxChecksumIpv4)) {
    s.clear(Offload::Tso4);
    s.clear(Offload::TsoEcn);
  }
  // TSO6 requires an IPv6-capable TX checksum.
  if (s.has(Offload::Tso6) && !hw && !s.has(Offload::TxChecksumIpv6)) s.clear(Offload::Tso6);
  // MANGLEID requires TSO4.
  if (s.has(Offload::TsoMangleId) && !s.has(Offload::Tso4)) s.clear(Offload::TsoMangleId);
  // ECN requires TSO4 or TSO6.
  if (s.has(Offload::TsoEcn) && !s.has(Offload::Tso4) && !s.has(Offload::Tso6))
    s.clear(Offload::TsoEcn);
  // Software GSO depends on SG.
  if (s.has(Offload::Gso) && !s.has(Offload::ScatterGather)) s.clear(Offload::Gso);
  // UDP segmentation needs SG and a TX checksum (TUNSETOFFLOAD refuses USO
  // without CSUM; the kernel cannot finish the UDP checksums otherwise).
  if (s.has(Offload::UdpSegmentation) && (!s.has(Offload::ScatterGather) || !anyTxChecksum(s)))
    s.clear(Offload::UdpSegmentation);
  // Receive aggregation in hardware depends on RX checksum.
  if (s.has(Offload::Lro) && !s.has(Offload::RxChecksum)) s.clear(Offload::Lro);
  return s;
}

Capabilities intersect(const Capabilities& a, const Capabilities& b) {
  Capabilities r;
  // As the kernel's netdev_intersect_features(): a generic checksum on one
  // side stands for IPv4 and IPv6 checksums against a protocol-specific side.
  OffloadSet fa = a.offloads, fb = b.offloads;
  if (fa.has(Offload::TxChecksumIpGeneric) != fb.has(Offload::TxChecksumIpGeneric)) {
    OffloadSet& generic = fa.has(Offload::TxChecksumIpGeneric) ? fa : fb;
    generic.set(Offload::TxChecksumIpv4);
    generic.set(Offload::TxChecksumIpv6);
  }
  r.offloads = fixOffloadDependencies(fa & fb);
  r.gsoMaxSize = minLimit(a.gsoMaxSize, b.gsoMaxSize);
  r.gsoMaxSegs = minLimit(a.gsoMaxSegs, b.gsoMaxSegs);
  r.tsoMaxSize = minLimit(a.tsoMaxSize, b.tsoMaxSize);
  r.tsoMaxSegs = minLimit(a.tsoMaxSegs, b.tsoMaxSegs);
  r.minMtu = std::max(a.minMtu, b.minMtu);
  r.maxMtu = minLimit(a.maxMtu, b.maxMtu);
  r.rxQueues = minLimit(a.rxQueues, b.rxQueues);
  r.txQueues = minLimit(a.txQueues, b.txQueues);
  return r;
}

unsigned toTunOffloadFlags(const OffloadSet& in) {
  const OffloadSet s = fixOffloadDependencies(in);
  // The TAP's checksum offload is NETIF_F_HW_CSUM: it claims any protocol,
  // so it is only honest when the set covers both IPv4 and IPv6.
  const bool csum = s.has(Offload::TxChecksumIpGeneric) ||
                    (s.has(Offload::TxChecksumIpv4) && s.has(Offload::TxChecksumIpv6));
  if (!csum || !s.has(Offload::ScatterGather)) return csum ? kTunFCsum : 0;
  unsigned f = kTunFCsum;
  if (s.has(Offload::Tso4)) f |= kTunFTso4;
  if (s.has(Offload::Tso6)) f |= kTunFTso6;
  if (s.has(Offload::TsoEcn) && (f & (kTunFTso4 | kTunFTso6))) f |= kTunFTsoEcn;
  if (s.has(Offload::UdpSegmentation)) f |= kTunFUso4 | kTunFUso6;
  return f;
}

OffloadSet tapOffloadsFor(unsigned f) {
  OffloadSet s{Offload::ScatterGather, Offload::Gso, Offload::TxVlan};
  if (f & kTunFCsum) s.set(Offload::TxChecksumIpGeneric);
  if (f & kTunFTso4) s.set(Offload::Tso4);
  if (f & kTunFTso6) s.set(Offload::Tso6);
  if (f & kTunFTsoEcn) s.set(Offload::TsoEcn);
  if (f & (kTunFUso4 | kTunFUso6)) s.set(Offload::UdpSegmentation);
  return fixOffloadDependencies(s);
}

namespace {
// The offloads that depend on what a backend keeps of a frame's metadata;
// the others (SG, GRO, VLAN, ...) are tvf0's own business.
constexpr Offload kBackendOffloads[] = {
    Offload::TxChecksumIpGeneric, Offload::TxChecksumIpv4, Offload::TxChecksumIpv6, Offload::Tso4,
    Offload::Tso6,                Offload::TsoEcn,         Offload::TsoMangleId,    Offload::UdpSegmentation,
    Offload::RxChecksum};
}  // namespace

Capabilities BackendFeatures::asCapabilities() const {
  Capabilities c;
  c.offloads = OffloadSet::all();
  for (Offload o : kBackendOffloads) {
    if (!vnetHeader || !offloads.has(o)) c.offloads.clear(o);
  }
  // A GSO super-frame must fit the backend's largest frame with its vnet
  // and Ethernet headers; the default largest frame puts no limit.
  constexpr std::uint32_t kHeaders = kVnetHdrLen + 14;
  if (maxFrame < kMaxFrameLen) c.gsoMaxSize = maxFrame > kHeaders ? maxFrame - kHeaders : 1;
  return c;
}

BackendFeatures BackendFeatures::full(std::string mechanism) {
  BackendFeatures f;
  f.mechanism = std::move(mechanism);
  for (Offload o : kBackendOffloads) f.offloads.set(o);
  f.queues = 256;
  return f;
}

}  // namespace tvf
