#include "src/PathFrames.hpp"
#include "base/InternetChecksum.hpp"

#include <cstring>

namespace tvf {
namespace {

void put16(std::vector<std::uint8_t>& f, std::size_t at, std::uint16_t v) {
  f[at] = static_cast<std::uint8_t>(v >> 8);
  f[at + 1] = static_cast<std::uint8_t>(v & 0xff);
}

void ethernet(std::vector<std::uint8_t>& f, const std::array<std::uint8_t, 6>& dst, const MacAddress& src,
              std::uint16_t type) {
  std::memcpy(&f[0], dst.data(), 6);
  std::memcpy(&f[6], src.bytes().data(), 6);
  put16(f, 12, type);
}

}  // namespace

std::vector<std::uint8_t> gratuitousArp(const MacAddress& mac, const Ipv4& ip) {
  std::vector<std::uint8_t> f(60, 0);  // padded to the Ethernet minimum
  ethernet(f, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac, 0x0806);
  put16(f, 14, 1);       // htype Ethernet
  put16(f, 16, 0x0800);  // ptype IPv4
  f[18] = 6;
  f[19] = 4;
  put16(f, 20, 1);  // request: updates every cache that holds the IP
  std::memcpy(&f[22], mac.bytes().data(), 6);
  std::memcpy(&f[28], ip.data(), 4);
  std::memcpy(&f[38], ip.data(), 4);  // target = sender: gratuitous
  return f;
}

std::vector<std::uint8_t> arpRequest(const MacAddress& mac, const Ipv4& senderIp, const MacAddress& neighbourMac,
                                     const Ipv4& neighbourIp) {
  std::vector<std::uint8_t> f(60, 0);
  ethernet(f, neighbourMac.bytes(), mac, 0x0806);
  put16(f, 14, 1);
  put16(f, 16, 0x0800);
  f[18] = 6;
  f[19] = 4;
  put16(f, 20, 1);
  std::memcpy(&f[22], mac.bytes().data(), 6);
  std::memcpy(&f[28], senderIp.data(), 4);
  // Target hardware address left zero, as a request has it.
  std::memcpy(&f[38], neighbourIp.data(), 4);
  return f;
}

std::optional<Ipv4> arpReplyTo(std::span<const std::uint8_t> frame, const MacAddress& mac) {
  if (frame.size() < 42) return std::nullopt;
  auto get16 = [&](std::size_t at) { return static_cast<std::uint16_t>(frame[at] << 8 | frame[at + 1]); };
  if (get16(12) != 0x0806 || get16(14) != 1 || get16(16) != 0x0800 || frame[18] != 6 || frame[19] != 4 ||
      get16(20) != 2)
    return std::nullopt;
  if (std::memcmp(&frame[32], mac.bytes().data(), 6) != 0) return std::nullopt;
  Ipv4 sender;
  std::memcpy(sender.data(), &frame[28], 4);
  return sender;
}

std::uint16_t icmpv6Checksum(const Ipv6& src, const Ipv6& dst, const std::uint8_t* msg, std::size_t len) {
  std::uint64_t sum = onesSum(src.data(), 16);
  sum = onesSum(dst.data(), 16, sum);
  sum += len;
  sum += 58;  // next header: ICMPv6
  return checksumOf(onesSum(msg, len, sum));
}

std::vector<std::uint8_t> unsolicitedNa(const MacAddress& mac, const Ipv6& ip, bool router) {
  constexpr std::size_t kIcmpLen = 32;
  std::vector<std::uint8_t> f(14 + 40 + kIcmpLen, 0);
  ethernet(f, {0x33, 0x33, 0, 0, 0, 1}, mac, 0x86dd);
  const Ipv6 allNodes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::uint8_t* ip6 = &f[14];
  ip6[0] = 0x60;
  ip6[4] = 0;
  ip6[5] = kIcmpLen;
  ip6[6] = 58;   // ICMPv6
  ip6[7] = 255;  // hop limit required by ND
  std::memcpy(ip6 + 8, ip.data(), 16);
  std::memcpy(ip6 + 24, allNodes.data(), 16);
  std::uint8_t* icmp = &f[54];
  icmp[0] = 136;   // neighbour advertisement
  icmp[4] = router ? 0xa0 : 0x20;  // (router +) override
  std::memcpy(icmp + 8, ip.data(), 16);
  icmp[24] = 2;  // target link-layer address option
  icmp[25] = 1;
  std::memcpy(icmp + 26, mac.bytes().data(), 6);
  const std::uint16_t csum = icmpv6Checksum(ip, allNodes, icmp, kIcmpLen);
  icmp[2] = static_cast<std::uint8_t>(csum >> 8);
  icmp[3] = static_cast<std::uint8_t>(csum & 0xff);
  return f;
}

}  // namespace tvf
