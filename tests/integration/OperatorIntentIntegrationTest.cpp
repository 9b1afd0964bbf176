// Issue 11, kinds 2-4, as a new user meets them:
// - kind 2: what tvf0 shows is the operator's intent plus what both paths
//   can do (ethtool -K on tvf0 kept across switches, a MAC change refused
//   and put back, promiscuity held by a counter reaching the backends);
// - kind 3: a claimed backend's MTU, up, promisc, IPv6 off, lack of
//   addresses and ingress program (and tvf0's egress program) are invariants
//   tvf keeps when someone changes them behind its back;
// - kind 4: announcements as complete as the kernel's own (the NA's Router
//   flag, GARPs for upper devices stacked on tvf0).
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <string>

#include "Topology.hpp"

namespace tvf::it {
namespace {

using namespace std::chrono_literals;

class OperatorIntent : public TopologyTest {
 protected:
  OperatorIntent() { makeInSetUp_ = false; }  // some tests want a jumbo topology
  bool guestShows(const std::string& cmd, const std::string& needle) { return topo->guestShows(cmd, needle); }
  bool guestLacks(const std::string& cmd, const std::string& needle) { return topo->guestLacks(cmd, needle); }
  std::string tso() { return ethtoolFeature(topo->inGuest("ethtool -k tvf0").out, "tcp-segmentation-offload"); }
  void attachVf() {
    topo->addVf("vf0");
    ASSERT_TRUE(topo->waitForState("active", "vf"));
  }
  // Starts `cmd` in the guest in the background; returns its pid.
  int background(const std::string& cmd) {
    auto r = topo->inGuest(cmd + " >/dev/null 2>&1 & echo $!");
    return std::atoi(r.out.c_str());
  }
};

// ---- kind 2 ------------------------------------------------------------------

TEST_F(OperatorIntent, EthtoolOffOnTvf0SurvivesSwitchesAndCapabilityChanges) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  attachVf();
  ASSERT_EQ(tso(), "on");
  ASSERT_EQ(topo->inGuest("ethtool -K tvf0 tso off").status, 0);
  ASSERT_EQ(tso(), "off");
  // The status says what the operator turned off (ethtool's "tso" is three
  // features, by bit order).
  EXPECT_EQ(topo->status()["caps"]["operator_off"],
            nlohmann::json::array({"tx-tcp-segmentation", "tx-tcp-ecn-segmentation", "tx-tcp6-segmentation"}))
      << topo->status()["caps"].dump();
  // A switch to the synthetic and back.
  ASSERT_EQ(topo->tvfctl("detach tvf0 --wait").status, 0);
  EXPECT_EQ(tso(), "off") << "after detach";
  ASSERT_EQ(topo->tvfctl("attach tvf0").status, 0);
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_EQ(tso(), "off") << "after attach";
  // A VF capability change and its undo recompute the intersection.
  ASSERT_EQ(topo->inGuest("ethtool -K vf0 tx off").status, 0);
  EXPECT_TRUE(guestShows("ethtool -k tvf0", "tx-checksumming: off"));
  ASSERT_EQ(topo->inGuest("ethtool -K vf0 tx on").status, 0);
  EXPECT_TRUE(guestShows("ethtool -k tvf0", "tx-checksumming: on"));
  EXPECT_EQ(tso(), "off") << "after a capability change";
  // The operator turns it on again: that too is kept.
  ASSERT_EQ(topo->inGuest("ethtool -K tvf0 tso on").status, 0);
  topo->delVf("vf0");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  EXPECT_EQ(tso(), "on") << "after the operator turned it on and the VF left";
  EXPECT_EQ(topo->status()["caps"]["operator_off"], nlohmann::json::array()) << topo->status()["caps"].dump();
}

// `ip link set tvf0 gso_max_size N gso_max_segs M`: every switch wrote
// what both paths allow over it (65536 / 65535 here).
TEST_F(OperatorIntent, GsoLimitsLoweredOnTvf0SurviveSwitches) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  attachVf();
  ASSERT_EQ(topo->inGuest("ip link set tvf0 gso_max_size 16384 gso_max_segs 32").status, 0);
  const std::string lowered = "gso_max_size 16384 gso_max_segs 32 ";
  ASSERT_EQ(topo->tvfctl("detach tvf0 --wait").status, 0);
  EXPECT_TRUE(guestShows("ip -d link show tvf0", lowered)) << "after a planned detach";
  ASSERT_EQ(topo->tvfctl("attach tvf0").status, 0);
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_TRUE(guestShows("ip -d link show tvf0", lowered)) << "after the attach";
  topo->delVf("vf0");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  topo->addVf("vf1");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_TRUE(guestShows("ip -d link show tvf0", lowered)) << "after a surprise removal and a new VF";
  // The status says what tvf0 has, not what the paths would allow.
  EXPECT_EQ(topo->status()["caps"]["gso_max_size"], 16384) << topo->status()["caps"].dump();
  EXPECT_EQ(topo->status()["caps"]["gso_max_segs"], 32) << topo->status()["caps"].dump();
  EXPECT_TRUE(contains(topo->tvfdLog(), "gso_max_size 16384 gso_max_segs 32 kept as the operator set them"))
      << topo->tvfdLog();
  // Raised to the maximum again: the ceiling is gone at the next switch.
  ASSERT_EQ(topo->inGuest("ip link set tvf0 gso_max_size 65536 gso_max_segs 65535").status, 0);
  ASSERT_EQ(topo->tvfctl("detach tvf0 --wait").status, 0);
  EXPECT_TRUE(guestShows("ip -d link show tvf0", "gso_max_size 65536 gso_max_segs 65535 "));
}

// The same choices survive a daemon restart on the persistent tvf0 (clean,
// and kill -9): the new daemon's first switch took them for the TAP's
// defaults and undid both (tso on, gso_max_size 65536).
TEST_F(OperatorIntent, OffloadAndGsoChoicesOnTvf0SurviveRestarts) {
  make();
  ASSERT_TRUE(topo->startTvfd("    persist: true\n"));
  attachVf();
  ASSERT_EQ(topo->inGuest("ethtool -K tvf0 tso off && ip link set tvf0 gso_max_size 16384").status, 0);
  for (const int signal : {SIGTERM, SIGKILL}) {
    const std::string how = signal == SIGTERM ? "after SIGTERM and a restart" : "after kill -9 and a restart";
    topo->stopTvfd(signal);
    ASSERT_TRUE(topo->restartTvfd());
    ASSERT_TRUE(topo->waitForState("active", "vf")) << how;
    EXPECT_EQ(tso(), "off") << how;
    EXPECT_TRUE(guestShows("ip -d link show tvf0", "gso_max_size 16384 ")) << how;
    // And across a switch of the new daemon.
    ASSERT_EQ(topo->tvfctl("detach tvf0 --wait").status, 0);
    EXPECT_EQ(tso(), "off") << how << ", then a detach";
    EXPECT_TRUE(guestShows("ip -d link show tvf0", "gso_max_size 16384 ")) << how << ", then a detach";
    ASSERT_EQ(topo->tvfctl("attach tvf0").status, 0);
    ASSERT_TRUE(topo->waitForState("active", "vf")) << how;
  }
}

// A status read between the operator's off and on must not make tvf
// remember the off: the next switch leaves the feature on.
TEST_F(OperatorIntent, AnOffloadTurnedOffAndOnAroundAStatusReadStaysOn) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  attachVf();
  ASSERT_EQ(topo->inGuest("ethtool -K tvf0 tso off").status, 0);
  EXPECT_FALSE(topo->status()["caps"]["operator_off"].empty());
  ASSERT_EQ(topo->inGuest("ethtool -K tvf0 tso on").status, 0);
  EXPECT_EQ(topo->status()["caps"]["operator_off"], nlohmann::json::array()) << topo->status()["caps"].dump();
  // Named as caps.offloads names them.
  ASSERT_EQ(topo->inGuest("ethtool -K tvf0 gso off").status, 0);
  EXPECT_EQ(topo->status()["caps"]["operator_off"], nlohmann::json::array({"generic-segmentation-offload"}))
      << topo->status()["caps"].dump();
  ASSERT_EQ(topo->inGuest("ethtool -K tvf0 gso on").status, 0);
  topo->delVf("vf0");  // a switch: TUNSETOFFLOAD and the operator's offs put back
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  EXPECT_EQ(tso(), "on");
}

TEST_F(OperatorIntent, ChecksumOffOnTvf0SurvivesTheVfLeaving) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  attachVf();
  ASSERT_EQ(topo->inGuest("ethtool -K tvf0 tx off").status, 0);
  topo->delVf("vf0");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  EXPECT_EQ(ethtoolFeature(topo->inGuest("ethtool -k tvf0").out, "tx-checksumming"), "off");
  attachVf();
  EXPECT_EQ(ethtoolFeature(topo->inGuest("ethtool -k tvf0").out, "tx-checksumming"), "off");
}

TEST_F(OperatorIntent, MacChangeOnTvf0IsRefusedAndPutBack) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  attachVf();
  const std::string mac = "02:00:c6:12:00:02";
  ASSERT_TRUE(contains(topo->inGuest("ip -o link show tvf0").out, mac));
  topo->inGuest("ip link set tvf0 address 02:00:c6:12:00:99");
  EXPECT_TRUE(guestShows("ip -o link show tvf0", mac)) << topo->inGuest("ip -o link show tvf0").out;
  EXPECT_TRUE(contains(topo->inGuest("ip -o link show vf0").out, mac));
  EXPECT_TRUE(contains(topo->inGuest("ip -o link show eth0").out, mac));
  EXPECT_TRUE(Topology::waitFor([&] { return contains(topo->tvfdLog(), "MAC change on tvf0 to 02:00:c6:12:00:99 refused"); }, 10s))
      << topo->tvfdLog();
  auto s = topo->status();
  EXPECT_TRUE(contains(s["last_error"].get<std::string>(), "02:00:c6:12:00:99")) << s["last_error"];
  EXPECT_EQ(s["state"], "active");
  auto ping = topo->inGuest("ping -c 5 -i 0.05 -W 1 198.18.0.1");
  EXPECT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
}

TEST_F(OperatorIntent, TcpdumpOnTvf0MakesBothBackendsPromiscuous) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  attachVf();
  ASSERT_FALSE(contains(topo->inGuest("ip -o link show vf0").out, "PROMISC"));
  const int pid = background("timeout 60 tcpdump -i tvf0 -w /dev/null");
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(guestShows("ip -d link show tvf0", "promiscuity 1"));
  EXPECT_TRUE(guestShows("ip -o link show vf0", "PROMISC"));
  EXPECT_TRUE(guestShows("ip -o link show eth0", "PROMISC"));
  ::kill(pid, SIGTERM);
  EXPECT_TRUE(guestShows("ip -d link show tvf0", "promiscuity 0"));
  EXPECT_TRUE(guestLacks("ip -o link show vf0", "PROMISC"));
  EXPECT_TRUE(guestLacks("ip -o link show eth0", "PROMISC"));
}

// ---- kind 3 ------------------------------------------------------------------

class BackendInvariant : public OperatorIntent {
 protected:
  void jumbo() {
    make(9000);
    ASSERT_TRUE(topo->startTvfd());
    attachVf();
    ASSERT_EQ(topo->inGuest("ip link set tvf0 mtu 9000").status, 0);
    ASSERT_TRUE(guestShows("ip -o link show vf0", "mtu 9000"));
    ASSERT_TRUE(guestShows("ip -o link show eth0", "mtu 9000"));
  }
  // A standard topology, tvfd started, vf0 attached and carrying TX.
  void startActive() {
    make();
    ASSERT_TRUE(topo->startTvfd());
    attachVf();
  }
  std::string jumboPing() { return topo->inGuest("ping -M do -s 8972 -c 5 -i 0.05 -W 1 198.18.0.1").out; }
};

TEST_F(BackendInvariant, VfMtuLoweredBehindTvfsBackIsPutBack) {
  jumbo();
  ASSERT_EQ(topo->inGuest("ip link set vf0 mtu 1500").status, 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(guestShows("ip -o link show vf0", "mtu 9000"));
  std::fprintf(stderr, "vf0's mtu put back in %lld ms\n",
               static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - t0).count()));
  const auto ping = jumboPing();
  EXPECT_TRUE(contains(ping, " 0% packet loss")) << ping;
  EXPECT_EQ(topo->status()["active"], "vf");
}

TEST_F(BackendInvariant, SyntheticMtuLoweredIsPutBack) {
  jumbo();
  ASSERT_EQ(topo->inGuest("ip link set eth0 mtu 1500").status, 0);
  EXPECT_TRUE(guestShows("ip -o link show eth0", "mtu 9000"));
  ASSERT_EQ(topo->tvfctl("detach tvf0 --wait").status, 0);
  const auto ping = jumboPing();
  EXPECT_TRUE(contains(ping, " 0% packet loss")) << ping;
}

TEST_F(BackendInvariant, VfSetDownIsBroughtBackUpAndTakesTxAgain) {
  ASSERT_NO_FATAL_FAILURE(startActive());
  ASSERT_EQ(topo->inGuest("ip link set vf0 down").status, 0);
  EXPECT_TRUE(guestShows("ip -o link show vf0", "state UP"));
  EXPECT_TRUE(topo->waitForState("active", "vf"));
  auto ping = topo->inGuest("ping -c 5 -i 0.05 -W 1 198.18.0.1");
  EXPECT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
}

TEST_F(BackendInvariant, VfPromiscTurnedOffWhileTcpdumpRunsIsPutBack) {
  ASSERT_NO_FATAL_FAILURE(startActive());
  const int pid = background("timeout 60 tcpdump -i tvf0 -w /dev/null");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(guestShows("ip -o link show vf0", "PROMISC"));
  ASSERT_EQ(topo->inGuest("ip link set vf0 promisc off").status, 0);
  // Put back: shows PROMISC again (and still does a moment later).
  EXPECT_TRUE(guestShows("ip -o link show vf0", "PROMISC"));
  ::kill(pid, SIGTERM);
  EXPECT_TRUE(guestLacks("ip -o link show vf0", "PROMISC"));
}

TEST_F(BackendInvariant, AllmultiTurnedOnOnTheSyntheticIsPutBack) {
  ASSERT_NO_FATAL_FAILURE(startActive());
  ASSERT_EQ(topo->inGuest("ip link set eth0 allmulticast on").status, 0);
  EXPECT_TRUE(guestLacks("ip -o link show eth0", "ALLMULTI"));
  EXPECT_TRUE(contains(topo->tvfdLog(), "eth0 changed behind tvf's back (allmulti on)")) << topo->tvfdLog();
}

// An address added to a claimed VF: the stack would route out of it, past
// tvf0 (a second connected route to the same prefix). Removed, and said.
TEST_F(BackendInvariant, AddressAddedToTheClaimedVfIsRemoved) {
  ASSERT_NO_FATAL_FAILURE(startActive());
  ASSERT_EQ(topo->inGuest("ip addr add 198.18.0.77/24 dev vf0").status, 0);
  EXPECT_TRUE(guestLacks("ip -o addr show dev vf0", "198.18.0.77"));
  EXPECT_TRUE(guestLacks("ip route show dev vf0", "198.18.0.0/24"));
  EXPECT_TRUE(topo->waitForLog("vf0: address 198.18.0.77/24 was added behind tvf's back: removed"))
      << topo->tvfdLog();
  auto ping = topo->inGuest("ping -c 5 -i 0.05 -W 1 198.18.0.1");
  EXPECT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
  // Not given to the VF on release either: it was never the VF's before the claim.
  topo->stopTvfd(SIGTERM);
  EXPECT_FALSE(contains(topo->inGuest("ip -o addr show dev vf0").out, "198.18.0.77"));
}

// A tool re-adding addresses to the VF every 100 ms: each is removed, the
// log says so at most once per 10 s (a warning every 250 ms otherwise).
TEST_F(BackendInvariant, AFightOverTheVfsAddressesIsLoggedOncePerTenSeconds) {
  ASSERT_NO_FATAL_FAILURE(startActive());
  // The shell's own pacing is the workload here, not a wait for an event.
  ASSERT_EQ(topo->inGuest("for i in $(seq 10 29); do ip addr add 198.18.0.$i/24 dev vf0; sleep 0.1; done").status, 0);
  EXPECT_TRUE(guestLacks("ip -o addr show dev vf0", "inet "));
  const std::string log = topo->tvfdLog();
  std::size_t warnings = 0;
  for (auto at = log.find("was added behind tvf's back"); at != std::string::npos;
       at = log.find("was added behind tvf's back", at + 1))
    ++warnings;
  EXPECT_EQ(warnings, 1u) << log;
}

// IPv6 turned back on on a claimed backend: SLAAC and DAD on tvf0's MAC.
TEST_F(BackendInvariant, Ipv6TurnedOnOnClaimedBackendsIsTurnedOffAgain) {
  ASSERT_NO_FATAL_FAILURE(startActive());
  for (const std::string dev : {"vf0", "eth0"}) {
    ASSERT_EQ(topo->inGuest("sysctl -qw net.ipv6.conf." + dev + ".disable_ipv6=0").status, 0);
    EXPECT_TRUE(Topology::waitFor(
        [&] { return topo->inGuest("sysctl -n net.ipv6.conf." + dev + ".disable_ipv6").out == "1\n"; }, 5s))
        << dev;
    EXPECT_TRUE(guestLacks("ip -o addr show dev " + dev, "inet6")) << dev;
    EXPECT_TRUE(topo->waitForLog(dev + ": IPv6 was turned on behind tvf's back: off again")) << topo->tvfdLog();
  }
}

// A claimed VF renamed (udev does so): the checks follow the link, not its
// old name, which another link may take meanwhile and is none of tvf's.
TEST_F(BackendInvariant, ARenamedVfIsStillHeldAndItsOldNameIsNotTvfs) {
  ASSERT_NO_FATAL_FAILURE(startActive());
  ASSERT_EQ(topo->inGuest("ip link set vf0 down && ip link set vf0 name vfx && ip link set vfx up").status, 0);
  ASSERT_TRUE(Topology::waitFor([&] { return topo->status()["vf"].value("ifname", "") == "vfx"; }, 10s))
      << topo->status().dump();
  ASSERT_EQ(topo->inGuest("ip link add vf0 type veth peer name vf0p && sysctl -qw net.ipv6.conf.vf0.disable_ipv6=0")
                .status,
            0);
  ASSERT_EQ(topo->inGuest("sysctl -qw net.ipv6.conf.vfx.disable_ipv6=0").status, 0);
  EXPECT_TRUE(Topology::waitFor(
      [&] { return topo->inGuest("sysctl -n net.ipv6.conf.vfx.disable_ipv6").out == "1\n"; }, 5s));
  EXPECT_TRUE(topo->waitForLog("vfx: IPv6 was turned on behind tvf's back: off again")) << topo->tvfdLog();
  // The new vf0 is not a claimed backend: left as its owner set it.
  EXPECT_EQ(topo->inGuest("sysctl -n net.ipv6.conf.vf0.disable_ipv6").out, "0\n");
  EXPECT_FALSE(contains(topo->tvfdLog(), "vf0: IPv6 was turned on")) << topo->tvfdLog();
  topo->inGuest("ip link del vf0");
}

// `tc qdisc del dev X clsact` on the claimed backends took their ingress
// programs: frames arriving there went to the backend's own stack and tvf0
// heard nothing (100% loss). Put back, both datapaths (user: the drop).
TEST_F(BackendInvariant, ClsactDeletedOnTheClaimedBackendsIsPutBack) {
  ASSERT_NO_FATAL_FAILURE(startActive());
  ASSERT_EQ(topo->inGuest("tc qdisc del dev vf0 clsact && tc qdisc del dev eth0 clsact").status, 0);
  for (const std::string dev : {"vf0", "eth0"}) {
    EXPECT_TRUE(guestShows("tc filter show dev " + dev + " ingress", "tvf_")) << dev;
    EXPECT_TRUE(topo->waitForLog(dev + ": its ingress program")) << topo->tvfdLog();
  }
  auto in = topo->inHost("ping -c 10 -i 0.05 -W 1 198.18.0.2");
  EXPECT_TRUE(contains(in.out, " 0% packet loss")) << in.out;
  ASSERT_EQ(topo->tvfctl("detach tvf0 --wait").status, 0);  // and on the synthetic
  in = topo->inHost("ping -c 10 -i 0.05 -W 1 198.18.0.2");
  EXPECT_TRUE(contains(in.out, " 0% packet loss")) << in.out;
}

// An operator's filter put on a claimed backend's clsact (which tvf made
// for its claim) went with the whole qdisc when tvf released the backend:
// a planned detach, and a clean exit for the synthetic. Our filter goes,
// theirs and the qdisc stay.
TEST_F(BackendInvariant, AnOperatorsFilterOnAClaimedBackendSurvivesItsRelease) {
  ASSERT_NO_FATAL_FAILURE(startActive());
  // Matches no frame (a destination MAC beginning 01:02:03:04).
  const std::string filter =
      " protocol all prio 7 u32 match u32 0x01020304 0xffffffff at 0 action mirred egress mirror dev lo";
  ASSERT_EQ(topo->inGuest("tc filter add dev vf0 egress" + filter + " && tc filter add dev eth0 ingress" + filter)
                .status,
            0);
  ASSERT_EQ(topo->tvfctl("detach tvf0 --wait").status, 0);
  EXPECT_TRUE(guestLacks("tc filter show dev vf0 ingress", "tvf_"));
  EXPECT_TRUE(contains(topo->inGuest("tc filter show dev vf0 egress").out, "u32"))
      << topo->inGuest("tc qdisc show dev vf0").out;
  // The qdisc is the operator's now: emptied, it stays through the next
  // claim and release, as any clsact tvf found on a backend does.
  ASSERT_EQ(topo->inGuest("tc filter del dev vf0 egress prio 7").status, 0);
  ASSERT_EQ(topo->tvfctl("attach tvf0").status, 0);
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  ASSERT_EQ(topo->tvfctl("detach tvf0 --wait").status, 0);
  EXPECT_TRUE(contains(topo->inGuest("tc qdisc show dev vf0").out, "clsact"));
  EXPECT_TRUE(guestLacks("tc filter show dev vf0 ingress", "tvf_"));
  topo->stopTvfd(SIGTERM);
  EXPECT_TRUE(contains(topo->tvfdLog(), "backends released")) << topo->tvfdLog();
  const std::string eth0 = topo->inGuest("tc filter show dev eth0 ingress").out;
  EXPECT_TRUE(contains(eth0, "u32")) << eth0;
  EXPECT_FALSE(contains(eth0, "tvf_")) << eth0;
}

// The kernel datapath's egress program taken off tvf0 (clsact deleted, or
// detached from tcx): tvf0's frames went to the TAP, which only discards.
TEST_F(BackendInvariant, Tvf0EgressProgramRemovedIsPutBack) {
  if (datapathMode() != "kernel") GTEST_SKIP() << "the user datapath has no program on tvf0";
  ASSERT_NO_FATAL_FAILURE(startActive());
  const bool onTcx = contains(topo->guestTcPrograms("tvf0", "egress"), "tcx tvf_egress");
  const std::string removal =
      onTcx ? std::string(TCX_TOOL_PATH) + " tvf0 egress --detach tvf_egress" : "tc qdisc del dev tvf0 clsact";
  auto r = topo->inGuest(removal);
  ASSERT_EQ(r.status, 0) << removal << ": " << r.out;
  EXPECT_TRUE(Topology::waitFor([&] { return contains(topo->guestTcPrograms("tvf0", "egress"), "tvf_egress"); }, 5s))
      << topo->guestTcPrograms("tvf0", "egress");
  EXPECT_TRUE(topo->waitForLog("tvf_egress was removed from tvf0 behind tvf's back")) << topo->tvfdLog();
  auto ping = topo->inGuest("ping -c 5 -i 0.05 -W 1 198.18.0.1");
  EXPECT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
}

// On clsact, an `ingress` qdisc put where clsact was has no egress hook:
// the re-attach "succeeded" at ffff:fff3 where nothing runs, and said it
// was put back. Now said as it is, and put back once the qdisc goes.
TEST_F(BackendInvariant, AnIngressQdiscInClsactsPlaceOnTvf0IsSaidAsSuch) {
  if (datapathMode() != "kernel") GTEST_SKIP() << "the user datapath has no program on tvf0";
  make();
  ASSERT_TRUE(topo->startTvfd("    tc_hook: clsact\n"));
  attachVf();
  // The daemon is stopped for the swap: its 250 ms check would otherwise put
  // clsact back between the two commands, and the add would fail (EEXIST).
  ASSERT_EQ(::kill(topo->tvfdPid(), SIGSTOP), 0);
  auto swap = topo->inGuest("tc qdisc del dev tvf0 clsact && tc qdisc add dev tvf0 handle ffff: ingress");
  ASSERT_EQ(::kill(topo->tvfdPid(), SIGCONT), 0);
  ASSERT_EQ(swap.status, 0) << swap.out;
  EXPECT_TRUE(topo->waitForLog("an ingress qdisc sits where clsact goes on tvf0")) << topo->tvfdLog();
  EXPECT_FALSE(contains(topo->tvfdLog(), "tvf_egress was removed from tvf0 behind tvf's back (tc qdisc del? bpftool?): put back"))
      << topo->tvfdLog();
  ASSERT_EQ(topo->inGuest("tc qdisc del dev tvf0 ingress").status, 0);
  EXPECT_TRUE(topo->waitForLog("put back", 40s)) << topo->tvfdLog();
  EXPECT_TRUE(guestShows("tc qdisc show dev tvf0", "clsact"));
  auto ping = topo->inGuest("ping -c 5 -i 0.05 -W 1 198.18.0.1");
  EXPECT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
}

// ---- kind 4 ------------------------------------------------------------------

TEST_F(OperatorIntent, NaAfterASwitchKeepsTheRouterFlag) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  ASSERT_EQ(topo->inGuest("sysctl -qw net.ipv6.conf.all.forwarding=1").status, 0);
  attachVf();
  auto neigh = [&] { return topo->inHost("ip -6 neigh show fd00:18::2").out; };
  // The host learns tvf0's address from the kernel's own (solicited) NA: router.
  auto ping = topo->inHost("ping -6 -c 3 -i 0.1 -W 1 fd00:18::2");
  ASSERT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
  ASSERT_TRUE(contains(neigh(), "router")) << neigh();
  ASSERT_EQ(topo->tvfctl("detach tvf0 --wait").status, 0);
  ASSERT_TRUE(Topology::waitFor(
      [&] { return std::regex_search(topo->tvfdLog(), std::regex("announced[^\n]* on synthetic")); }, 5s));
  EXPECT_TRUE(contains(neigh(), "router")) << neigh();
  ASSERT_EQ(topo->tvfctl("attach tvf0").status, 0);
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_TRUE(contains(neigh(), "router")) << neigh();
}

TEST_F(OperatorIntent, MacvlanOnTvf0IsAnnouncedOnASwitch) {
  make();
  ASSERT_TRUE(topo->startTvfd());
  attachVf();
  const std::string mvMac = "02:00:c6:12:00:33";
  // No IPv6 on mv0: its own MLD reports and router solicitations, sent at
  // random moments after it comes up, would teach the bridge too.
  ASSERT_EQ(topo->inGuest("ip link add mv0 link tvf0 address " + mvMac +
                          " type macvlan mode bridge && sysctl -qw net.ipv6.conf.mv0.disable_ipv6=1 && "
                          "ip addr add 198.18.0.3/24 dev mv0 && ip link set mv0 up").status, 0);
  auto fdbPort = [&] {
    auto out = topo->inHost("bridge fdb show br br0 | grep -i \"" + mvMac + "\" | grep -v permanent").out;
    std::smatch m;
    return std::regex_search(out, m, std::regex("dev (\\S+)")) ? m[1].str() : std::string();
  };
  topo->inGuest("ping -I mv0 -c 2 -i 0.1 -W 1 198.18.0.1");
  ASSERT_TRUE(Topology::waitFor([&] { return fdbPort() == "hvf0"; }, 5s)) << fdbPort();
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(topo->tvfctl("detach tvf0").status, 0);
  EXPECT_TRUE(Topology::waitFor([&] { return fdbPort() == "hsyn"; }, 3s)) << fdbPort();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "the macvlan's MAC moved to the synthetic's port %lld ms after detach began\n",
               static_cast<long long>(ms));
  EXPECT_LT(ms, 1000);
  EXPECT_TRUE(contains(topo->tvfdLog(), "upper mv0 (02:00:c6:12:00:33)")) << "the announcement names the upper device";
}

}  // namespace
}  // namespace tvf::it
