#include "src/NetlinkTypes.hpp"

#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <cstring>

namespace tvf {

void NlSockDeleter::operator()(nl_sock* s) const noexcept { nl_socket_free(s); }
void NlMsgDeleter::operator()(nl_msg* m) const noexcept { nlmsg_free(m); }

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
  if (tb[IFLA_IFNAME]) l.ifname = nla_get_string(tb[IFLA_IFNAME]);
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
      l.kind = nla_get_string(li[IFLA_INFO_KIND]);
  }
  return out;
}

}  // namespace tvf
