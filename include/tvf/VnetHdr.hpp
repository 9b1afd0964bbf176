// The 10-byte virtio_net_hdr that TAP (IFF_VNET_HDR) and AF_PACKET
// (PACKET_VNET_HDR) put before each frame. Defined here because the
// kernel's <linux/virtio_net.h> does not compile as C++ (a member named
// `class`).
#pragma once

#include <cstdint>

namespace tvf {

struct VnetHdr {
  std::uint8_t flags;
  std::uint8_t gsoType;
  std::uint16_t hdrLen;
  std::uint16_t gsoSize;
  std::uint16_t csumStart;
  std::uint16_t csumOffset;
};
static_assert(sizeof(VnetHdr) == 10);

inline constexpr std::uint8_t kVnetFlagNeedsCsum = 1;
inline constexpr std::uint8_t kVnetFlagDataValid = 2;  // the checksums were verified
inline constexpr std::uint8_t kVnetGsoNone = 0;
inline constexpr std::uint8_t kVnetGsoTcpv4 = 1;
inline constexpr std::uint8_t kVnetGsoUdp = 3;  // UFO: fragmentation, not supported
inline constexpr std::uint8_t kVnetGsoTcpv6 = 4;
inline constexpr std::uint8_t kVnetGsoUdpL4 = 5;
inline constexpr std::uint8_t kVnetGsoEcn = 0x80;  // a flag on the TCP types

}  // namespace tvf
