#include "src/NetlinkTypes.hpp"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <array>
#include <cstring>

namespace tvf {

void NlSockDeleter::operator()(nl_sock* s) const noexcept { nl_socket_free(s); }
void NlMsgDeleter::operator()(nl_msg* m) const noexcept { nlmsg_free(m); }

std::string attrString(const nlattr* a) {
  const int len = nla_len(a);
  if (len <= 0) return {};
  const auto* p = static_cast<const char*>(nla_data(a));
  return std::string(p, ::strnlen(p, static_cast<std::size_t>(len)));
}

namespace {

// IFLA_IFNAME as the kernel sends it: NUL-terminated within the payload,
// at most IFNAMSIZ - 1 characters.
bool wellFormedIfname(const nlattr* a) {
  const int len = nla_len(a);
  if (len <= 0) return false;
  const std::size_t n = ::strnlen(static_cast<const char*>(nla_data(a)), static_cast<std::size_t>(len));
  return n < static_cast<std::size_t>(len) && n < IFNAMSIZ;
}

}  // namespace

std::optional<ParsedLink> parseLinkMessage(const nlmsghdr* hdr) {
  ParsedLink out;
  if (hdr->nlmsg_type == RTM_NEWLINK)
    out.kind = LinkMessageKind::New;
  else if (hdr->nlmsg_type == RTM_DELLINK)
    out.kind = LinkMessageKind::Del;
  else
    return std::nullopt;
  if (hdr->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return std::nullopt;
  const auto* ifi = static_cast<const ifinfomsg*>(nlmsg_data(hdr));
  if (ifi->ifi_family != AF_UNSPEC) return std::nullopt;

  nlattr* tb[IFLA_MAX + 1] = {};
  if (nlmsg_parse(const_cast<nlmsghdr*>(hdr), sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0)
    return std::nullopt;

  LinkInfo& l = out.link;
  l.ifindex = ifi->ifi_index;
  l.arpType = ifi->ifi_type;
  l.up = ifi->ifi_flags & IFF_UP;
  l.running = ifi->ifi_flags & IFF_RUNNING;
  l.carrier = ifi->ifi_flags & IFF_LOWER_UP;
  l.promisc = ifi->ifi_flags & IFF_PROMISC;
  l.allmulti = ifi->ifi_flags & IFF_ALLMULTI;
  if (tb[IFLA_IFNAME]) {
    if (!wellFormedIfname(tb[IFLA_IFNAME])) return std::nullopt;
    l.ifname = attrString(tb[IFLA_IFNAME]);
  }
  if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6) {
    std::array<std::uint8_t, 6> b{};
    std::memcpy(b.data(), nla_data(tb[IFLA_ADDRESS]), 6);
    l.mac = MacAddress(b);
  }
  auto u32 = [&](int attr) -> std::uint32_t {
    return tb[attr] && nla_len(tb[attr]) >= 4 ? nla_get_u32(tb[attr]) : 0;
  };
  l.mtu = u32(IFLA_MTU);
  l.minMtu = u32(IFLA_MIN_MTU);
  l.maxMtu = u32(IFLA_MAX_MTU);
  l.gsoMaxSize = u32(IFLA_GSO_MAX_SIZE);
  l.gsoMaxSegs = u32(IFLA_GSO_MAX_SEGS);
  l.tsoMaxSize = u32(IFLA_TSO_MAX_SIZE);
  l.tsoMaxSegs = u32(IFLA_TSO_MAX_SEGS);
  l.numRxQueues = u32(IFLA_NUM_RX_QUEUES);
  l.numTxQueues = u32(IFLA_NUM_TX_QUEUES);
  l.masterIndex = static_cast<int>(u32(IFLA_MASTER));
  l.linkIndex = static_cast<int>(u32(IFLA_LINK));
  l.promiscuity = u32(IFLA_PROMISCUITY);
  l.allmultiCount = u32(IFLA_ALLMULTI);
  if (tb[IFLA_LINKINFO]) {
    nlattr* li[IFLA_INFO_MAX + 1] = {};
    if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) == 0 && li[IFLA_INFO_KIND])
      l.kind = attrString(li[IFLA_INFO_KIND]);
  }
  return out;
}

std::optional<ParsedAddress> parseAddressMessage(const nlmsghdr* hdr) {
  ParsedAddress out;
  if (hdr->nlmsg_type == RTM_NEWADDR)
    out.added = true;
  else if (hdr->nlmsg_type == RTM_DELADDR)
    out.added = false;
  else
    return std::nullopt;
  if (hdr->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) return std::nullopt;
  const auto* ifa = static_cast<const ifaddrmsg*>(nlmsg_data(hdr));
  nlattr* tb[IFA_MAX + 1] = {};
  if (nlmsg_parse(const_cast<nlmsghdr*>(hdr), sizeof(ifaddrmsg), tb, IFA_MAX, nullptr) < 0) return std::nullopt;
  out.family = ifa->ifa_family;
  out.ifindex = static_cast<int>(ifa->ifa_index);
  out.flags = ifa->ifa_flags;
  if (tb[IFA_FLAGS] && nla_len(tb[IFA_FLAGS]) >= 4) out.flags = nla_get_u32(tb[IFA_FLAGS]);
  const int size = out.family == AF_INET ? 4 : out.family == AF_INET6 ? 16 : 0;
  auto bytesOf = [&](int attr) -> std::vector<std::uint8_t> {
    if (!tb[attr] || size == 0 || nla_len(tb[attr]) != size) return {};
    const auto* p = static_cast<const std::uint8_t*>(nla_data(tb[attr]));
    return {p, p + size};
  };
  out.address = bytesOf(IFA_ADDRESS);
  out.local = bytesOf(IFA_LOCAL);
  return out;
}

std::optional<ParsedNeighbour> parseNeighbourMessage(const nlmsghdr* hdr) {
  if (hdr->nlmsg_type != RTM_NEWNEIGH || hdr->nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg))) return std::nullopt;
  const auto* nd = static_cast<const ndmsg*>(nlmsg_data(hdr));
  nlattr* tb[NDA_MAX + 1] = {};
  if (nlmsg_parse(const_cast<nlmsghdr*>(hdr), sizeof(ndmsg), tb, NDA_MAX, nullptr) < 0) return std::nullopt;
  ParsedNeighbour out;
  out.family = nd->ndm_family;
  out.ifindex = nd->ndm_ifindex;
  out.state = nd->ndm_state;
  const int size = out.family == AF_INET ? 4 : out.family == AF_INET6 ? 16 : 0;
  if (tb[NDA_DST] && size != 0 && nla_len(tb[NDA_DST]) == size) {
    const auto* p = static_cast<const std::uint8_t*>(nla_data(tb[NDA_DST]));
    out.address.assign(p, p + size);
  }
  if (tb[NDA_LLADDR] && nla_len(tb[NDA_LLADDR]) == 6) {
    std::array<std::uint8_t, 6> b{};
    std::memcpy(b.data(), nla_data(tb[NDA_LLADDR]), 6);
    out.lladdr = MacAddress(b);
  }
  return out;
}

std::string extackMessage(const nlmsghdr* hdr) {
  if (hdr->nlmsg_type != NLMSG_ERROR || !(hdr->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  if (hdr->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return {};
  const auto* e = static_cast<const nlmsgerr*>(nlmsg_data(hdr));
  const std::size_t payload = hdr->nlmsg_len - NLMSG_HDRLEN;
  // The TLVs follow the echoed request: its header only when capped.
  std::size_t off = sizeof(nlmsgerr);
  if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) {
    if (e->msg.nlmsg_len < NLMSG_HDRLEN) return {};
    off += e->msg.nlmsg_len - NLMSG_HDRLEN;
  }
  off = NLMSG_ALIGN(off);
  if (off >= payload) return {};
  auto* attrs = reinterpret_cast<nlattr*>(const_cast<char*>(static_cast<const char*>(nlmsg_data(hdr))) + off);
  nlattr* tb[NLMSGERR_ATTR_MAX + 1] = {};
  if (nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, static_cast<int>(payload - off), nullptr) != 0 ||
      !tb[NLMSGERR_ATTR_MSG])
    return {};
  return attrString(tb[NLMSGERR_ATTR_MSG]);
}

}  // namespace tvf
