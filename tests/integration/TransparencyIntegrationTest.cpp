// Transparency, proven with ip, ethtool, bridge and ping: capabilities and
// GSO limits applied and restored, MTU and flags forwarded with rollback,
// multicast mirrored, carrier followed, the path announced, and
// transparent: false leaving the VF alone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <thread>

#include "Topology.hpp"

namespace tvf::it {
namespace {

using namespace std::chrono_literals;

class Transparency : public TopologyTest {
 protected:
  Transparency() { makeInSetUp_ = false; }  // some tests want a jumbo topology
  bool guestShows(const std::string& cmd, const std::string& needle) { return topo->guestShows(cmd, needle); }
};

TEST_F(Transparency, EthtoolShowsTheIntersectionAndItsRestore) {
  make();
  ASSERT_TRUE(topo->startTvfd("    attach_wait_ms: 1500\n"));
  const auto synthOnly = topo->inGuest("ethtool -k tvf0").out;
  EXPECT_EQ(ethtoolFeature(synthOnly, "tcp-segmentation-offload"), "on");
  EXPECT_EQ(ethtoolFeature(synthOnly, "tx-checksumming"), "on");
  topo->addVf("vf0");
  ASSERT_EQ(topo->inGuest("ethtool -K vf0 tso off").status, 0);  // within attach_wait
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  auto attached = topo->inGuest("ethtool -k tvf0").out;
  EXPECT_EQ(ethtoolFeature(attached, "tcp-segmentation-offload"), "off");
  EXPECT_EQ(ethtoolFeature(attached, "tx-checksumming"), "on");
  // The VF's capabilities change while it is active: recomputed.
  ASSERT_EQ(topo->inGuest("ethtool -K vf0 tx off").status, 0);
  EXPECT_TRUE(guestShows("ethtool -k tvf0", "tx-checksumming: off"));
  EXPECT_EQ(ethtoolFeature(topo->inGuest("ethtool -k tvf0").out, "tcp-segmentation-offload"), "off");
  auto s = topo->status();
  EXPECT_EQ(std::find(s["caps"]["offloads"].begin(), s["caps"]["offloads"].end(), "tx-tcp-segmentation"),
            s["caps"]["offloads"].end());
  topo->delVf("vf0");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  EXPECT_EQ(topo->inGuest("ethtool -k tvf0").out, synthOnly);
}

TEST_F(Transparency, GsoLimitsFollowTheVfAndComeBack) {
  make();
  ASSERT_TRUE(topo->startTvfd("    attach_wait_ms: 1500\n"));
  EXPECT_TRUE(contains(topo->inGuest("ip -d link show tvf0").out, "gso_max_size 65536"));
  topo->addVf("vf0");
  ASSERT_EQ(topo->inGuest("ip link set vf0 gso_max_size 16384").status, 0);
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_TRUE(contains(topo->inGuest("ip -d link show tvf0").out, "gso_max_size 16384"))
      << topo->inGuest("ip -d link show tvf0").out;
  EXPECT_EQ(topo->status()["caps"]["gso_max_size"], 16384);
  topo->delVf("vf0");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  EXPECT_TRUE(contains(topo->inGuest("ip -d link show tvf0").out, "gso_max_size 65536"));
}

TEST_F(Transparency, JumboMtuGoesToBothBackends) {
  make(9000);
  ASSERT_TRUE(topo->startTvfd());
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  ASSERT_EQ(topo->inGuest("ip link set tvf0 mtu 9000").status, 0);
  EXPECT_TRUE(guestShows("ip -o link show vf0", "mtu 9000"));
  EXPECT_TRUE(guestShows("ip -o link show eth0", "mtu 9000"));
  auto ping = topo->inGuest("ping -M do -s 8972 -c 5 -i 0.05 -W 1 198.18.0.1");
  EXPECT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
  EXPECT_EQ(topo->status()["caps"]["mtu"], 9000);
}

TEST_F(Transparency, MtuRefusedByTheVfRollsTvf0Back) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  // XDP on the host-side peer caps vf0's max_mtu (veth_xdp_set).
  auto xdp = topo->inHost(std::string(XDP_TOOL_PATH) + " hvf0 pass");
  ASSERT_EQ(xdp.status, 0) << xdp.out;
  ASSERT_TRUE(contains(topo->inGuest("ip -d link show vf0").out, "maxmtu 3"))
      << topo->inGuest("ip -d link show vf0").out;
  topo->inGuest("ip link set tvf0 mtu 9000");
  EXPECT_TRUE(guestShows("ip -o link show tvf0", "mtu 1500"));
  EXPECT_TRUE(Topology::waitFor([&] { return contains(topo->tvfdLog(), "mtu change on tvf0 refused by vf0"); }, 10s))
      << topo->tvfdLog();
  EXPECT_TRUE(contains(topo->inGuest("ip -o link show eth0").out, "mtu 1500"));
  EXPECT_TRUE(contains(topo->inGuest("ip -o link show vf0").out, "mtu 1500"));
  auto s = topo->status();
  EXPECT_EQ(s["control_op_rollbacks"], 1);
  EXPECT_TRUE(contains(s["last_error"].get<std::string>(), "mtu greater than device maximum") ||
              contains(s["last_error"].get<std::string>(), "Numerical result out of range"))
      << s["last_error"];
  EXPECT_EQ(s["state"], "active");
}

TEST_F(Transparency, PromiscAndAllmultiAreMirrored) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  topo->inGuest("ip link set tvf0 promisc on");
  EXPECT_TRUE(guestShows("ip -o link show vf0", "PROMISC"));
  EXPECT_TRUE(guestShows("ip -o link show eth0", "PROMISC"));
  topo->inGuest("ip link set tvf0 promisc off");
  EXPECT_TRUE(Topology::waitFor([&] { return !contains(topo->inGuest("ip -o link show vf0").out, "PROMISC"); }, 10s));
  EXPECT_FALSE(contains(topo->inGuest("ip -o link show eth0").out, "PROMISC"));
  topo->inGuest("ip link set tvf0 allmulticast on");
  EXPECT_TRUE(guestShows("ip -o link show vf0", "ALLMULTI"));
  EXPECT_TRUE(guestShows("ip -o link show eth0", "ALLMULTI"));
  topo->inGuest("ip link set tvf0 allmulticast off");
  EXPECT_TRUE(Topology::waitFor([&] { return !contains(topo->inGuest("ip -o link show vf0").out, "ALLMULTI"); }, 10s));
  // Down and up follow as well.
  topo->inGuest("ip link set tvf0 down");
  EXPECT_TRUE(Topology::waitFor([&] { return !contains(topo->inGuest("ip -o link show vf0").out, ",UP"); }, 10s));
  topo->inGuest("ip link set tvf0 up");
  EXPECT_TRUE(guestShows("ip -o link show vf0", ",UP"));
}

TEST_F(Transparency, MulticastJoinedOnTvf0ArrivesThroughTheVf) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  // A link-layer group added by hand is mirrored to the VF.
  topo->inGuest("ip maddr add 01:00:5e:0a:0b:0c dev tvf0");
  EXPECT_TRUE(guestShows("ip maddr show dev vf0", "01:00:5e:0a:0b:0c"));
  EXPECT_TRUE(guestShows("ip maddr show dev eth0", "01:00:5e:0a:0b:0c"));
  // An IP group joined by an application: its datagrams come in via the VF.
  const std::string dir = topo->dir();
  std::ofstream(dir + "/recv.py") << R"(import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("239.1.2.3", 5005))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack("4s4s", socket.inet_aton("239.1.2.3"), socket.inet_aton("198.18.0.2")))
s.settimeout(4)
n = 0
try:
    while True:
        s.recv(2000); n += 1
except socket.timeout:
    pass
print(n)
)";
  std::ofstream(dir + "/send.py") << R"(import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("198.18.0.1"))
for i in range(40):
    s.sendto(b"x" * 100, ("239.1.2.3", 5005)); time.sleep(0.025)
)";
  const auto before = topo->status();
  CommandResult recv;
  std::thread rx([&] { recv = topo->inGuest("python3 " + dir + "/recv.py"); });
  // The join's IGMP report has reached the host's bridge (snooping on).
  EXPECT_TRUE(Topology::waitFor([&] { return contains(topo->inHost("bridge mdb show").out, "239.1.2.3"); }, 10s))
      << topo->inHost("bridge mdb show").out;
  EXPECT_EQ(topo->inHost("python3 " + dir + "/send.py").status, 0);
  rx.join();
  EXPECT_GE(std::atoi(recv.out.c_str()), 30) << recv.out;
  const auto after = topo->status();
  EXPECT_GE(after["counters"]["vf"]["rx_packets"].get<std::uint64_t>(),
            before["counters"]["vf"]["rx_packets"].get<std::uint64_t>() + 30);
}

TEST_F(Transparency, CarrierLossMovesTxAndItComesBack) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  topo->inHost("ip link set hvf0 down");
  ASSERT_TRUE(topo->waitForState("active", "synthetic"));
  auto ping = topo->inGuest("ping -c 10 -i 0.05 -W 1 198.18.0.1");
  EXPECT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
  EXPECT_FALSE(contains(topo->inGuest("ip -o link show tvf0").out, "NO-CARRIER"));
  EXPECT_EQ(topo->status()["vf"]["ifname"], "vf0");  // not detached
  topo->inHost("ip link set hvf0 up");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  ping = topo->inGuest("ping -c 10 -i 0.05 -W 1 198.18.0.1");
  EXPECT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
}

TEST_F(Transparency, SwitchIsAnnouncedToTheBridgeAndTheHookRuns) {
  make();
  const std::string hook = "/tmp/tvfhook" + std::to_string(::getpid()) + ".sh";
  std::ofstream(hook) << "#!/bin/sh\necho \"$@\" >> " << hook << ".out\n";
  ::chmod(hook.c_str(), 0755);
  ASSERT_TRUE(topo->startTvfd("    on_switch: " + hook + "\n"));
  auto fdbPort = [&] {
    auto out = topo->inHost("bridge fdb show br br0 | grep -i \"02:00:c6:12:00:02\" | grep -v permanent").out;
    std::smatch m;
    return std::regex_search(out, m, std::regex("dev (\\S+)")) ? m[1].str() : std::string();
  };
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_TRUE(Topology::waitFor([&] { return fdbPort() == "hvf0"; }, 5s)) << fdbPort();
  // Poll the fdb while the detach runs (no --wait: its drain would hide
  // how fast the switch learned).
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(topo->tvfctl("detach tvf0").status, 0);
  EXPECT_TRUE(Topology::waitFor([&] { return fdbPort() == "hsyn"; }, 5s)) << fdbPort();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "bridge fdb moved to the synthetic's port %lld ms after detach began\n",
               static_cast<long long>(ms));
  EXPECT_TRUE(Topology::waitFor([&] {
    std::ifstream f(hook + ".out");
    std::string all((std::istreambuf_iterator<char>(f)), {});
    return contains(all, "tvf0 vf vf0\n") && contains(all, "tvf0 synthetic eth0\n");
  }, 10s));
  ::unlink(hook.c_str());
  ::unlink((hook + ".out").c_str());
}

// A snooping switch learns a group's port from membership reports only:
// the switch's announcement carried gratuitous ARPs and NAs but none, so
// the bridge knew tvf0's groups on the synthetic's port alone until its
// next query (125 s). Now IGMP and MLD reports go with them.
TEST_F(Transparency, SwitchAnnouncesTvf0sMulticastGroupsToTheBridge) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  // The kernel's own unsolicited reports (two per join) end within 10 ms,
  // long before the VF's attach: only tvf's announcement reaches hvf0.
  ASSERT_EQ(topo->inGuest("sysctl -qw net.ipv4.conf.tvf0.igmpv3_unsolicited_report_interval=10 "
                          "net.ipv6.conf.tvf0.mldv2_unsolicited_report_interval=10 && "
                          "ip addr add 239.1.2.4/32 dev tvf0 autojoin && "
                          "ip -6 addr add ff0e::4:5/128 dev tvf0 autojoin")
                .status,
            0);
  auto mdb = [&] { return topo->inHost("bridge mdb show").out; };
  ASSERT_TRUE(Topology::waitFor(
      [&] { return contains(mdb(), "port hsyn grp 239.1.2.4") && contains(mdb(), "port hsyn grp ff0e::4:5"); }, 10s))
      << mdb();
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_TRUE(Topology::waitFor(
      [&] { return contains(mdb(), "port hvf0 grp 239.1.2.4") && contains(mdb(), "port hvf0 grp ff0e::4:5"); }, 5s))
      << mdb();
  EXPECT_TRUE(topo->waitForLog("multicast group(s)")) << topo->tvfdLog();
  // The groups joined with autojoin are listed as addresses too: not
  // announced as such (no ARP or NA for a multicast address).
  EXPECT_TRUE(topo->waitForLog("announced 1 IPv4 + 1 IPv6 address(es)")) << topo->tvfdLog();
  // IPv6 off on tvf0: the kernel sends no MLD there, nor does tvf.
  ASSERT_EQ(topo->inGuest("sysctl -qw net.ipv6.conf.tvf0.disable_ipv6=1").status, 0);
  ASSERT_EQ(topo->tvfctl("detach tvf0 --wait").status, 0);
  EXPECT_TRUE(topo->waitForLog(" 0 IPv6 multicast group(s) x")) << topo->tvfdLog();
  ASSERT_EQ(topo->inGuest("sysctl -qw net.ipv6.conf.tvf0.disable_ipv6=0").status, 0);
}

TEST_F(Transparency, NonTransparentModeLeavesTheVfToTheOs) {
  make();
  ASSERT_TRUE(topo->startTvfd("    transparent: false\n"));
  const auto offloads = topo->inGuest("ethtool -k tvf0").out;
  topo->addVf("vf0");
  ASSERT_EQ(topo->inGuest("ip addr add 198.19.9.9/24 dev vf0 && ip link set vf0 up").status, 0);
  // tvfd saw the VF and left it alone (not a wait for attach_wait to pass:
  // a non-transparent pair starts no attach wait).
  ASSERT_TRUE(topo->waitForLog("tvf0: VF vf0 left to the OS (transparent: false)")) << topo->tvfdLog();
  auto s = topo->status();
  EXPECT_EQ(s["state"], "novf");
  EXPECT_TRUE(s["vf"].is_null());
  EXPECT_EQ(s["transparent"], false);
  EXPECT_EQ(topo->inGuest("ethtool -k tvf0").out, offloads);
  EXPECT_TRUE(contains(topo->inGuest("ip -o addr show dev vf0").out, "198.19.9.9/24"));
  EXPECT_FALSE(contains(topo->inGuest("tc filter show dev vf0 ingress").out, "bpf"));
  auto ping = topo->inGuest("ping -I tvf0 -c 5 -i 0.05 -W 1 198.18.0.1");
  EXPECT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
  topo->delVf("vf0");
  ASSERT_TRUE(topo->waitForLog("tvf0: the VF left to the OS (ifindex")) << topo->tvfdLog();
  s = topo->status();
  EXPECT_EQ(s["counters"]["vf"]["rx_packets"], 0);
  EXPECT_EQ(s["counters"]["vf"]["tx_packets"], 0);
  EXPECT_EQ(s["switches"], 0);
  EXPECT_EQ(topo->inGuest("ethtool -k tvf0").out, offloads);
}

}  // namespace
}  // namespace tvf::it
