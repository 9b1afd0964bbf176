#include "src/PathFrames.hpp"
#include "base/InternetChecksum.hpp"

#include <algorithm>
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

void ipv4Header(std::uint8_t* ip, std::size_t totalLen, const Ipv4& src, const Ipv4& dst) {
  ip[0] = 0x46;  // version 4, 24 bytes: the Router Alert option
  ip[1] = 0xc0;  // internetwork control, as the kernel's IGMP
  ip[2] = static_cast<std::uint8_t>(totalLen >> 8);
  ip[3] = static_cast<std::uint8_t>(totalLen & 0xff);
  ip[6] = 0x40;  // don't fragment
  ip[8] = 1;     // TTL
  ip[9] = 2;     // IGMP
  std::memcpy(ip + 12, src.data(), 4);
  std::memcpy(ip + 16, dst.data(), 4);
  ip[20] = 0x94;  // Router Alert (RFC 2113), value 0
  ip[21] = 4;
  const std::uint16_t csum = checksumOf(onesSum(ip, 24));
  ip[10] = static_cast<std::uint8_t>(csum >> 8);
  ip[11] = static_cast<std::uint8_t>(csum & 0xff);
}

void setChecksum(std::uint8_t* at, std::uint16_t csum) {
  at[0] = static_cast<std::uint8_t>(csum >> 8);
  at[1] = static_cast<std::uint8_t>(csum & 0xff);
}

// A report's group records (IGMPv3, RFC 3376 4.2.4; MLDv2, RFC 3810 5.2.4):
// type, aux data length 0, number of sources, the group, its sources. A
// group with sources in `include` is MODE_IS_INCLUDE {them} (at most
// `maxSources`, what one report holds), any other MODE_IS_EXCLUDE {}.
template <typename Addr>
std::vector<std::vector<std::uint8_t>> groupRecords(const std::vector<Addr>& groups,
                                                    const std::map<Addr, std::vector<Addr>>& include,
                                                    std::size_t maxSources) {
  constexpr std::size_t kAddr = std::tuple_size_v<Addr>;
  std::vector<std::vector<std::uint8_t>> records;
  for (const Addr& g : groups) {
    const auto inc = include.find(g);
    const std::size_t nsrc = inc == include.end() ? 0 : std::min(inc->second.size(), maxSources);
    std::vector<std::uint8_t> rec(4 + kAddr * (1 + nsrc), 0);
    rec[0] = nsrc ? 1 : 2;
    rec[2] = static_cast<std::uint8_t>(nsrc >> 8);
    rec[3] = static_cast<std::uint8_t>(nsrc & 0xff);
    std::memcpy(&rec[4], g.data(), kAddr);
    for (std::size_t i = 0; i < nsrc; ++i) std::memcpy(&rec[4 + kAddr * (1 + i)], inc->second[i].data(), kAddr);
    records.push_back(std::move(rec));
  }
  return records;
}

// Records packed in order into batches of at most `budget` bytes, each the
// body of one report.
struct RecordBatch {
  std::vector<std::uint8_t> bytes;
  std::uint16_t count = 0;
};
std::vector<RecordBatch> packRecords(const std::vector<std::vector<std::uint8_t>>& records, std::size_t budget) {
  std::vector<RecordBatch> out;
  for (const auto& r : records) {
    if (out.empty() || out.back().bytes.size() + r.size() > budget) out.emplace_back();
    out.back().bytes.insert(out.back().bytes.end(), r.begin(), r.end());
    ++out.back().count;
  }
  return out;
}

}  // namespace

std::vector<std::vector<std::uint8_t>> igmpReports(const MacAddress& mac, const Ipv4& src,
                                                   const std::vector<Ipv4>& groups, int igmpVersion,
                                                   const std::map<Ipv4, std::vector<Ipv4>>& include) {
  std::vector<std::vector<std::uint8_t>> out;
  if (igmpVersion < 3) {
    for (const Ipv4& g : groups) {
      std::vector<std::uint8_t> f(14 + 24 + 8, 0);
      ethernet(f, {0x01, 0x00, 0x5e, static_cast<std::uint8_t>(g[1] & 0x7f), g[2], g[3]}, mac, 0x0800);
      ipv4Header(&f[14], 24 + 8, src, g);
      std::uint8_t* igmp = &f[38];
      igmp[0] = igmpVersion == 1 ? 0x12 : 0x16;  // IGMPv1 / IGMPv2 membership report
      std::memcpy(igmp + 4, g.data(), 4);
      setChecksum(igmp + 2, checksumOf(onesSum(igmp, 8)));
      out.push_back(std::move(f));
    }
    return out;
  }
  // Records (8 bytes, and 4 per source) packed into reports of at most
  // 1472 bytes of IP: 24 of header, 8 of IGMP, 1440 of records.
  for (const RecordBatch& batch : packRecords(groupRecords(groups, include, 358), 1440)) {
    const std::size_t igmpLen = 8 + batch.bytes.size();
    std::vector<std::uint8_t> f(14 + 24 + igmpLen, 0);
    ethernet(f, {0x01, 0x00, 0x5e, 0x00, 0x00, 0x16}, mac, 0x0800);
    ipv4Header(&f[14], 24 + igmpLen, src, Ipv4{224, 0, 0, 22});
    std::uint8_t* igmp = &f[38];
    igmp[0] = 0x22;  // IGMPv3 membership report
    put16(f, 38 + 6, batch.count);
    std::memcpy(igmp + 8, batch.bytes.data(), batch.bytes.size());
    setChecksum(igmp + 2, checksumOf(onesSum(igmp, igmpLen)));
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<std::vector<std::uint8_t>> mldv2Reports(const MacAddress& mac, const Ipv6& src,
                                                    const std::vector<Ipv6>& groups,
                                                    const std::map<Ipv6, std::vector<Ipv6>>& include) {
  std::vector<std::vector<std::uint8_t>> out;
  const Ipv6 allMldv2Routers = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16};
  // Records (20 bytes, and 16 per source) in reports of at most 1456 bytes
  // of IPv6: 40 of header, 8 hop-by-hop, 8 of MLD, 1400 of records.
  for (const RecordBatch& batch : packRecords(groupRecords(groups, include, 86), 1400)) {
    const std::size_t icmpLen = 8 + batch.bytes.size();
    std::vector<std::uint8_t> f(14 + 40 + 8 + icmpLen, 0);
    ethernet(f, {0x33, 0x33, 0, 0, 0, 0x16}, mac, 0x86dd);
    std::uint8_t* ip6 = &f[14];
    ip6[0] = 0x60;
    put16(f, 14 + 4, static_cast<std::uint16_t>(8 + icmpLen));
    ip6[6] = 0;  // hop-by-hop options first
    ip6[7] = 1;  // hop limit
    std::memcpy(ip6 + 8, src.data(), 16);
    std::memcpy(ip6 + 24, allMldv2Routers.data(), 16);
    std::uint8_t* hbh = &f[54];
    hbh[0] = 58;  // then ICMPv6
    hbh[1] = 0;   // 8 bytes
    hbh[2] = 5;   // Router Alert (RFC 2711), value 0: MLD
    hbh[3] = 2;
    hbh[6] = 1;  // PadN, 0 bytes of padding data
    std::uint8_t* icmp = &f[62];
    icmp[0] = 143;  // MLDv2 report
    put16(f, 62 + 6, batch.count);
    std::memcpy(icmp + 8, batch.bytes.data(), batch.bytes.size());
    setChecksum(icmp + 2, icmpv6Checksum(src, allMldv2Routers, icmp, icmpLen));
    out.push_back(std::move(f));
  }
  return out;
}

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
