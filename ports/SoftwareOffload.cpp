#include "ports/SoftwareOffload.hpp"

#include <algorithm>
#include <cstring>

#include "base/InternetChecksum.hpp"
#include "tvf/VnetHdr.hpp"

namespace tvf {
namespace {

constexpr std::size_t kEthHeader = 14;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kTcpFin = 0x01, kTcpPsh = 0x08, kTcpCwr = 0x80;

std::uint16_t load16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
void store16(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
std::uint32_t load32(const std::uint8_t* p) noexcept {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}
void store32(std::uint8_t* p, std::uint32_t v) noexcept {
  store16(p, v >> 16);
  store16(p + 2, v & 0xffff);
}

// A computed checksum of 0 goes on the wire as 0xffff (UDP reads 0 as
// "none"; for TCP the two are the same number).
std::uint16_t finish(std::uint64_t acc) noexcept {
  const std::uint16_t c = checksumOf(acc);
  return c == 0 ? 0xffff : c;
}

}  // namespace

bool finishChecksum(std::span<std::uint8_t> frame, std::uint16_t csumStart, std::uint16_t csumOffset) noexcept {
  const std::size_t field = std::size_t(csumStart) + csumOffset;
  if (csumStart >= frame.size() || field + 2 > frame.size()) return false;
  const std::uint16_t c = finish(onesSum(frame.data() + csumStart, frame.size() - csumStart));
  store16(frame.data() + field, c);
  return true;
}

GsoSegmenter::GsoSegmenter(std::span<const std::uint8_t> frame, std::uint8_t gsoType, std::uint16_t gsoSize,
                           std::uint16_t l4Offset) noexcept
    : frame_(frame), gsoSize_(gsoSize) {
  if (frame.size() < kEthHeader || gsoSize == 0) return;
  std::size_t l3 = kEthHeader;
  const std::uint16_t ethertype = load16(frame.data() + 12);
  if (ethertype == 0x8100 || ethertype == 0x88a8) l3 += 4;
  if (frame.size() < l3 + 20) return;
  const unsigned version = frame[l3] >> 4;
  switch (gsoType & ~kVnetGsoEcn) {
    case kVnetGsoTcpv4: if (version != 4) return; break;
    case kVnetGsoTcpv6: if (version != 6) return; ipv6_ = true; break;
    case kVnetGsoUdpL4:
      if (version != 4 && version != 6) return;
      ipv6_ = version == 6;
      udp_ = true;
      break;
    default: return;
  }
  const std::size_t l3Min = ipv6_ ? 40 : std::size_t(frame[l3] & 0x0f) * 4;
  if (l3Min < 20 || l4Offset < l3 + l3Min) return;
  std::size_t l4Len = 8;
  if (!udp_) {
    if (std::size_t(l4Offset) + 20 > frame.size()) return;
    l4Len = std::size_t(frame[l4Offset + 12] >> 4) * 4;
    if (l4Len < 20) return;
  }
  l3Offset_ = l3;
  l4Offset_ = l4Offset;
  headerLen_ = l4Offset + l4Len;
  if (headerLen_ >= frame.size()) return;
  const std::size_t payload = frame.size() - headerLen_;
  segments_ = (payload + gsoSize_ - 1) / gsoSize_;
  valid_ = true;
}

std::size_t GsoSegmenter::write(std::size_t index, std::span<std::uint8_t> out) const noexcept {
  if (!valid_ || index >= segments_) return 0;
  const std::size_t payload = frame_.size() - headerLen_;
  const std::size_t offset = index * gsoSize_;
  const std::size_t chunk = std::min(gsoSize_, payload - offset);
  const std::size_t len = headerLen_ + chunk;
  if (out.size() < len) return 0;
  std::uint8_t* o = out.data();
  std::memcpy(o, frame_.data(), headerLen_);
  std::memcpy(o + headerLen_, frame_.data() + headerLen_ + offset, chunk);

  std::uint8_t* ip = o + l3Offset_;
  std::uint8_t* l4 = o + l4Offset_;
  const std::size_t l4Len = len - l4Offset_;
  std::uint64_t pseudo = 0;
  const std::uint8_t proto = udp_ ? kProtoUdp : kProtoTcp;
  if (ipv6_) {
    store16(ip + 4, static_cast<std::uint32_t>(len - l3Offset_ - 40));
    pseudo = onesSum(ip + 8, 32) + l4Len + proto;
  } else {
    const std::size_t ihl = std::size_t(ip[0] & 0x0f) * 4;
    store16(ip + 2, static_cast<std::uint32_t>(len - l3Offset_));
    store16(ip + 4, (load16(ip + 4) + index) & 0xffff);
    store16(ip + 10, 0);
    store16(ip + 10, checksumOf(onesSum(ip, ihl)));
    pseudo = onesSum(ip + 12, 8) + l4Len + proto;
  }
  std::size_t checksumField = 16;
  if (udp_) {
    store16(l4 + 4, static_cast<std::uint32_t>(l4Len));
    checksumField = 6;
  } else {
    store32(l4 + 4, load32(l4 + 4) + static_cast<std::uint32_t>(offset));
    if (index + 1 < segments_) l4[13] = static_cast<std::uint8_t>(l4[13] & ~(kTcpFin | kTcpPsh));
    if (index > 0) l4[13] = static_cast<std::uint8_t>(l4[13] & ~kTcpCwr);
  }
  store16(l4 + checksumField, 0);
  store16(l4 + checksumField, finish(onesSum(l4, l4Len, pseudo)));
  return len;
}

}  // namespace tvf
