// Checksum and segmentation in software, for a VF queue that lacks them in
// hardware: what the kernel's skb_checksum_help() and GSO would have done
// had the frame gone through a netdev. Frames here have no vnet header;
// the header's fields are passed alongside.
//
// Pure functions over byte spans: no allocation, noexcept, datapath-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tvf {

// Finishes a CHECKSUM_PARTIAL frame: the 16-bit field at
// csumStart + csumOffset holds the pseudo-header sum; the ones'-complement
// sum of frame[csumStart..] replaces it. False if the offsets are outside
// the frame.
bool finishChecksum(std::span<std::uint8_t> frame, std::uint16_t csumStart,
                    std::uint16_t csumOffset) noexcept;

// A GSO super-frame cut into wire-sized segments. Supports TCP over IPv4
// and IPv6 and UDP (USO) over both, with or without one VLAN tag.
class GsoSegmenter {
 public:
  // `gsoType` is the virtio_net_hdr's (TCPv4, TCPv6 or UDP L4, the ECN bit
  // allowed); `l4Offset` its csum_start. valid() is false for anything
  // else or a malformed frame.
  GsoSegmenter(std::span<const std::uint8_t> frame, std::uint8_t gsoType, std::uint16_t gsoSize,
               std::uint16_t l4Offset) noexcept;

  bool valid() const noexcept { return valid_; }
  bool udp() const noexcept { return udp_; }
  std::size_t segments() const noexcept { return segments_; }
  std::size_t headerLen() const noexcept { return headerLen_; }
  // Largest segment, headers included.
  std::size_t maxSegmentLen() const noexcept { return headerLen_ + gsoSize_; }

  // Writes segment `index` into `out` (at least maxSegmentLen() bytes) with
  // lengths, sequence numbers, flags and every checksum final. Returns its
  // length, or 0 when out is too small or index is out of range.
  std::size_t write(std::size_t index, std::span<std::uint8_t> out) const noexcept;

 private:
  std::span<const std::uint8_t> frame_;
  bool valid_ = false;
  bool ipv6_ = false;
  bool udp_ = false;
  std::size_t l3Offset_ = 0;
  std::size_t l4Offset_ = 0;
  std::size_t headerLen_ = 0;
  std::size_t gsoSize_ = 0;
  std::size_t segments_ = 0;
};

}  // namespace tvf
