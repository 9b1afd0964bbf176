// rtnetlink link messages built with libnl, parsed into LinkInfo; the link
// table's diff after a re-dump (the ENOBUFS resync).
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include "src/LinkTable.hpp"
#include "src/NetlinkTypes.hpp"

namespace tvf {
namespace {

NlMsgPtr linkMessage(int type, int ifindex, const char* name, unsigned flags, const char* kind,
                     unsigned char family = AF_UNSPEC) {
  NlMsgPtr msg(nlmsg_alloc_simple(type, 0));
  ifinfomsg ifi{};
  ifi.ifi_family = family;
  ifi.ifi_index = ifindex;
  ifi.ifi_type = 1;
  ifi.ifi_flags = flags;
  nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO);
  nla_put_string(msg.get(), IFLA_IFNAME, name);
  const std::uint8_t mac[6] = {0x02, 0, 0xc6, 0x12, 0, 0x02};
  nla_put(msg.get(), IFLA_ADDRESS, 6, mac);
  nla_put_u32(msg.get(), IFLA_MTU, 1500);
  nla_put_u32(msg.get(), IFLA_MIN_MTU, 68);
  nla_put_u32(msg.get(), IFLA_MAX_MTU, 9000);
  nla_put_u32(msg.get(), IFLA_GSO_MAX_SIZE, 16384);
  nla_put_u32(msg.get(), IFLA_GSO_MAX_SEGS, 64);
  nla_put_u32(msg.get(), IFLA_TSO_MAX_SIZE, 524280);
  nla_put_u32(msg.get(), IFLA_NUM_RX_QUEUES, 4);
  if (kind) {
    nlattr* li = nla_nest_start(msg.get(), IFLA_LINKINFO);
    nla_put_string(msg.get(), IFLA_INFO_KIND, kind);
    nla_nest_end(msg.get(), li);
  }
  return msg;
}

TEST(LinkParsing, TranslatesEveryField) {
  auto msg = linkMessage(RTM_NEWLINK, 5, "vf0", IFF_UP | IFF_RUNNING | IFF_LOWER_UP | IFF_PROMISC, "veth");
  auto p = parseLinkMessage(nlmsg_hdr(msg.get()));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, LinkMessageKind::New);
  const LinkInfo& l = p->link;
  EXPECT_EQ(l.ifindex, 5);
  EXPECT_EQ(l.ifname, "vf0");
  EXPECT_EQ(l.mac.toString(), "02:00:c6:12:00:02");
  EXPECT_EQ(l.kind, "veth");
  EXPECT_TRUE(l.up && l.running && l.carrier && l.promisc);
  EXPECT_FALSE(l.allmulti);
  EXPECT_EQ(l.mtu, 1500u);
  EXPECT_EQ(l.minMtu, 68u);
  EXPECT_EQ(l.maxMtu, 9000u);
  EXPECT_EQ(l.gsoMaxSize, 16384u);
  EXPECT_EQ(l.gsoMaxSegs, 64u);
  EXPECT_EQ(l.tsoMaxSize, 524280u);
  EXPECT_EQ(l.numRxQueues, 4u);
}

TEST(LinkParsing, IgnoresBridgePortMessagesAndOthers) {
  auto bridge = linkMessage(RTM_DELLINK, 5, "vf0", 0, nullptr, AF_BRIDGE);
  EXPECT_FALSE(parseLinkMessage(nlmsg_hdr(bridge.get())));
  auto addr = linkMessage(RTM_NEWADDR, 5, "vf0", 0, nullptr);
  EXPECT_FALSE(parseLinkMessage(nlmsg_hdr(addr.get())));
  auto del = linkMessage(RTM_DELLINK, 5, "vf0", 0, nullptr);
  auto p = parseLinkMessage(nlmsg_hdr(del.get()));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, LinkMessageKind::Del);
}

TEST(LinkTable, NewChangedRemoved) {
  LinkTable t;
  ParsedLink p;
  p.kind = LinkMessageKind::New;
  p.link.ifindex = 3;
  p.link.ifname = "eth0";
  EXPECT_TRUE(std::holds_alternative<LinkAdded>(*t.apply(p)));
  p.link.mtu = 9000;
  EXPECT_TRUE(std::holds_alternative<LinkChanged>(*t.apply(p)));
  p.kind = LinkMessageKind::Del;
  auto e = t.apply(p);
  ASSERT_TRUE(std::holds_alternative<LinkRemoved>(*e));
  EXPECT_EQ(std::get<LinkRemoved>(*e).ifname, "eth0");
  EXPECT_TRUE(t.links().empty());
}

TEST(LinkTable, ResyncAfterLostEventsReportsTheDifference) {
  LinkTable t;
  LinkInfo a, b, c;
  a.ifindex = 1;
  a.ifname = "lo";
  b.ifindex = 2;
  b.ifname = "eth0";
  c.ifindex = 7;
  c.ifname = "vf1";
  EXPECT_EQ(t.resync({a, b}).size(), 2u);  // the initial dump: all added
  // While events were lost: eth0 changed, vf1 came, lo... stayed.
  b.carrier = true;
  auto ev = t.resync({a, b, c});
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<LinkChanged>(ev[0]));
  EXPECT_TRUE(std::holds_alternative<LinkAdded>(ev[1]));
  // vf1 left while events were lost.
  ev = t.resync({a, b});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<LinkRemoved>(ev[0]).ifindex, 7);
  EXPECT_TRUE(t.resync({a, b}).empty());
}

}  // namespace
}  // namespace tvf
