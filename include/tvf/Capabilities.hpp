// What a netdev can offload, and the pure intersection of two such sets.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tvf {

// Offload features, named as `ethtool -k` prints them.
enum class Offload : std::uint8_t {
  TxChecksumIpGeneric,  // tx-checksum-ip-generic (NETIF_F_HW_CSUM)
  TxChecksumIpv4,       // tx-checksum-ipv4 (NETIF_F_IP_CSUM)
  TxChecksumIpv6,       // tx-checksum-ipv6 (NETIF_F_IPV6_CSUM)
  ScatterGather,        // tx-scatter-gather (NETIF_F_SG)
  Tso4,                 // tx-tcp-segmentation
  Tso6,                 // tx-tcp6-segmentation
  TsoEcn,               // tx-tcp-ecn-segmentation
  TsoMangleId,          // tx-tcp-mangleid-segmentation
  UdpSegmentation,      // tx-udp-segmentation (NETIF_F_GSO_UDP_L4)
  Gso,                  // generic-segmentation-offload
  RxChecksum,           // rx-checksumming
  Gro,                  // generic-receive-offload
  Lro,                  // large-receive-offload
  RxVlan,               // rx-vlan-offload (rx-vlan-hw-parse)
  TxVlan,               // tx-vlan-offload (tx-vlan-hw-insert)
  kCount
};

inline constexpr std::size_t kOffloadCount = static_cast<std::size_t>(Offload::kCount);

class OffloadSet {
 public:
  OffloadSet() = default;
  OffloadSet(std::initializer_list<Offload> list) {
    for (Offload o : list) set(o);
  }
  static OffloadSet all() {
    OffloadSet s;
    s.bits_.set();
    return s;
  }
  bool has(Offload o) const { return bits_.test(index(o)); }
  void set(Offload o, bool on = true) { bits_.set(index(o), on); }
  void clear(Offload o) { bits_.reset(index(o)); }
  bool empty() const { return bits_.none(); }
  OffloadSet operator&(const OffloadSet& o) const {
    OffloadSet r;
    r.bits_ = bits_ & o.bits_;
    return r;
  }
  bool operator==(const OffloadSet&) const = default;
  std::vector<std::string> names() const;  // in enum order

 private:
  static std::size_t index(Offload o) { return static_cast<std::size_t>(o); }
  std::bitset<kOffloadCount> bits_;
};

// `ethtool -k` name of a feature, and the kernel's netdev feature string
// (ETH_SS_FEATURES) that the ethtool ioctl reports for it.
std::string_view offloadName(Offload o);
std::string_view offloadKernelName(Offload o);
std::optional<Offload> offloadFromName(std::string_view ethtoolOrKernelName);

// Everything about a netdev's datapath abilities that failover must merge.
// A limit of 0 means "unlimited / not reported", as the kernel uses it.
struct Capabilities {
  OffloadSet offloads;
  std::uint32_t gsoMaxSize = 0;
  std::uint32_t gsoMaxSegs = 0;
  std::uint32_t tsoMaxSize = 0;
  std::uint32_t tsoMaxSegs = 0;
  std::uint32_t minMtu = 0;   // 0: no lower bound reported
  std::uint32_t maxMtu = 0;   // 0: unlimited
  std::uint32_t rxQueues = 0; // 0: unknown
  std::uint32_t txQueues = 0;

  bool operator==(const Capabilities&) const = default;
  // True when mtu lies in [minMtu, maxMtu] (0 bounds are open).
  bool acceptsMtu(std::uint32_t mtu) const {
    return mtu >= minMtu && (maxMtu == 0 || mtu <= maxMtu);
  }
};

// The feature dependencies of the kernel's netdev_fix_features(): no TSO
// without SG and a matching TX checksum, no ECN/MANGLEID TSO without TSO, no
// software GSO without SG, no HW/LRO receive aggregation without RX checksum...
OffloadSet fixOffloadDependencies(OffloadSet s);

// Pure merge: AND over features (then the dependency fix-ups), min over the
// maximums, max over the minimums; 0 = unlimited for maximums.
Capabilities intersect(const Capabilities& a, const Capabilities& b);

// The smaller of two limits where 0 means unlimited.
constexpr std::uint32_t minLimit(std::uint32_t a, std::uint32_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return a < b ? a : b;
}

// TUN_F_* flags (TUNSETOFFLOAD) that let a TAP advertise the set. The TAP
// can only express checksum, TSO4/6, TSO ECN and USO; the rest is ignored.
inline constexpr unsigned kTunFCsum = 0x01;
inline constexpr unsigned kTunFTso4 = 0x02;
inline constexpr unsigned kTunFTso6 = 0x04;
inline constexpr unsigned kTunFTsoEcn = 0x08;
inline constexpr unsigned kTunFUfo = 0x10;
inline constexpr unsigned kTunFUso4 = 0x20;  // not in Debian 12's 6.1 headers
inline constexpr unsigned kTunFUso6 = 0x40;
unsigned toTunOffloadFlags(const OffloadSet& s);
// The features a TAP shows (ethtool -k) after TUNSETOFFLOAD with these flags.
OffloadSet tapOffloadsFor(unsigned tunFlags);

}  // namespace tvf
