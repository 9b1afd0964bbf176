// tvfd against real kernel devices: a TAP, veth backends with the same MAC
// and a Linux bridge as the host's switch, in namespaces made per test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "Topology.hpp"

namespace tvf::it {
namespace {

using namespace std::chrono_literals;

std::uint64_t packets(const nlohmann::json& s, const char* path) {
  const auto& c = s["counters"][path];
  return c["rx_packets"].get<std::uint64_t>() + c["tx_packets"].get<std::uint64_t>();
}

class Datapath : public TopologyTest {
 protected:
  void attachVf(const std::string& name = "vf0") {
    topo->addVf(name);
    ASSERT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump();
    ASSERT_EQ(topo->status()["vf"]["ifname"], name);
  }
  void startIperfServer() {
    ASSERT_EQ(topo->inHost("iperf3 -s -D -B 198.18.0.1 --logfile " + topo->dir() + "/iperf-s.log").status, 0);
    ASSERT_TRUE(topo->waitForListener(true, "tcp", 5201));
  }
};

TEST_F(Datapath, AttachedVfCarriesPingAndTcpWithoutDuplicates) {
  ASSERT_TRUE(topo->startTvfd());
  attachVf();
  startIperfServer();
  const auto before = topo->status();
  auto ping = topo->inGuest("ping -c 20 -i 0.02 -W 1 198.18.0.1");
  EXPECT_NE(ping.out.find(" 0% packet loss"), std::string::npos) << ping.out;
  EXPECT_EQ(ping.out.find("DUP!"), std::string::npos) << ping.out;
  auto iperf = topo->inGuest("iperf3 -c 198.18.0.1 -t 3 -J");
  ASSERT_EQ(iperf.status, 0) << iperf.out;
  auto j = nlohmann::json::parse(iperf.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_GT(j["end"]["sum_received"]["bytes"].get<double>(), 1e6);
  const auto after = topo->status();
  const double vf = static_cast<double>(packets(after, "vf") - packets(before, "vf"));
  const double syn = static_cast<double>(packets(after, "synthetic") - packets(before, "synthetic"));
  EXPECT_GE(vf / (vf + syn), 0.95) << "vf " << vf << " synthetic " << syn;
  // Ping from the host side too: each request gets exactly one reply.
  auto back = topo->inHost("ping -c 10 -i 0.02 -W 1 198.18.0.2");
  EXPECT_NE(back.out.find(" 0% packet loss"), std::string::npos) << back.out;
  EXPECT_EQ(back.out.find("DUP!"), std::string::npos) << back.out;
}

TEST_F(Datapath, SurpriseRemovalKeepsTrafficOnTheSynthetic) {
  ASSERT_TRUE(topo->startTvfd());
  const auto synthOnly = topo->inGuest("ethtool -k tvf0").out;
  attachVf();
  startIperfServer();
  CommandResult udp;
  std::thread stream([&] { udp = topo->inGuest("iperf3 -c 198.18.0.1 -u -b 20M -l 1000 -t 4 -J"); });
  EXPECT_TRUE(topo->waitForCounter("vf", "tx_packets", 2500));  // a second of the stream on the VF
  const auto mid = topo->status();
  topo->delVf("vf0");
  stream.join();
  ASSERT_EQ(udp.status, 0) << udp.out;
  auto j = nlohmann::json::parse(udp.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  const auto& sum = j["end"]["sum"];
  std::fprintf(stderr, "surprise removal: %lld of %lld datagrams lost\n",
               sum["lost_packets"].get<long long>(), sum["packets"].get<long long>());
  // The stream went on after the removal: the synthetic carried it.
  const auto after = topo->status();
  EXPECT_GT(after["counters"]["synthetic"]["tx_packets"].get<std::uint64_t>(),
            mid["counters"]["synthetic"]["tx_packets"].get<std::uint64_t>() + 1000);
  EXPECT_LT(sum["lost_percent"].get<double>(), 50.0);
  EXPECT_EQ(after["state"], "novf");
  EXPECT_EQ(after["active"], "synthetic");
  EXPECT_TRUE(after["vf"].is_null());
  EXPECT_EQ(topo->inGuest("ethtool -k tvf0").out, synthOnly);
}

TEST_F(Datapath, ReplugUnderANewNameAttachesAfterTheWait) {
  ASSERT_TRUE(topo->startTvfd());
  attachVf("vf0");
  topo->delVf("vf0");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  topo->addVf("vfnew");
  // Not taken before attach_wait (300 ms) has passed.
  EXPECT_EQ(topo->status()["state"], "waiting");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_EQ(topo->status()["vf"]["ifname"], "vfnew");
  const auto before = topo->status();
  auto ping = topo->inGuest("ping -c 20 -i 0.02 -W 1 198.18.0.1");
  EXPECT_NE(ping.out.find(" 0% packet loss"), std::string::npos) << ping.out;
  const auto after = topo->status();
  EXPECT_GE(after["counters"]["vf"]["tx_packets"].get<std::uint64_t>(),
            before["counters"]["vf"]["tx_packets"].get<std::uint64_t>() + 20);
  EXPECT_EQ(after["switches"], 3);  // to vf0, back, to vfnew
}

// The per-path counters and the switch count started from 0 after a
// restart (a clean exit takes the kernel datapath's maps, a restart the
// user datapath's workers) while `tvfctl events` went on numbering: they
// continue now, through a SIGTERM and through a kill -9.
TEST_F(Datapath, CountersAndSwitchesGoOnAcrossRestarts) {
  ASSERT_TRUE(topo->startTvfd("    persist: true\n"));
  attachVf();
  auto ping = topo->inGuest("ping -c 20 -i 0.02 -W 1 198.18.0.1");
  ASSERT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
  auto field = [](const nlohmann::json& s, const char* path, const char* name) {
    return s["counters"][path][name].get<std::uint64_t>();
  };
  for (const int signal : {SIGTERM, SIGKILL}) {
    // Past the 250 ms tick that files the user datapath's counters.
    ASSERT_TRUE(Topology::waitFor([&] { return topo->status()["counters"]["vf"]["tx_packets"] >= 20; }, 5s));
    const auto before = topo->status();
    // The user datapath's counters are on file (250 ms tick) before the
    // kill; the kernel's live on in its maps.
    if (signal == SIGKILL && datapathMode() == "user") {
      ASSERT_TRUE(Topology::waitFor([&] {
        std::ifstream in(topo->dir() + "/counters-tvf0.json");
        auto j = nlohmann::json::parse(in, nullptr, false);
        if (!j.is_object()) return false;
        for (const char* path : {"synthetic", "vf"})
          for (const char* name : {"tx_packets", "rx_packets"})
            if (!(j[path][name] >= field(before, path, name))) return false;
        return true;
      }, 5s));
    }
    topo->stopTvfd(signal);
    ASSERT_TRUE(topo->restartTvfd());
    ASSERT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump();
    const auto after = topo->status();
    EXPECT_GE(after["switches"].get<std::uint64_t>(), before["switches"].get<std::uint64_t>()) << signal;
    // As many as `tvfctl events` has numbered (the timeline is on file).
    auto events = nlohmann::json::parse(topo->tvfctl("events tvf0 --json").out, nullptr, false);
    ASSERT_TRUE(events.is_array() && !events.empty()) << events;
    EXPECT_EQ(after["switches"], events.back()["seq"]) << events;
    for (const char* path : {"synthetic", "vf"}) {
      for (const char* name : {"tx_packets", "tx_bytes", "rx_packets", "rx_bytes"}) {
        EXPECT_GE(field(after, path, name), field(before, path, name))
            << path << " " << name << " went backwards across signal " << signal << ": " << before["counters"]
            << " -> " << after["counters"];
      }
    }
  }
  // kill -9, and the VF unplugged while no tvfd runs: its counts (in the
  // kernel datapath's maps, or on file) stay in the status.
  const auto before = topo->status();
  if (datapathMode() == "user") {
    ASSERT_TRUE(Topology::waitFor([&] {
      std::ifstream in(topo->dir() + "/counters-tvf0.json");
      auto j = nlohmann::json::parse(in, nullptr, false);
      return j.is_object() && j["vf"]["rx_packets"] >= field(before, "vf", "rx_packets");
    }, 5s));
  }
  topo->stopTvfd(SIGKILL);
  topo->delVf("vf0");
  ASSERT_TRUE(topo->restartTvfd());
  ASSERT_TRUE(topo->waitForState("novf", "synthetic")) << topo->status().dump();
  EXPECT_GE(field(topo->status(), "vf", "tx_packets"), field(before, "vf", "tx_packets"))
      << before["counters"] << " -> " << topo->status()["counters"];
  EXPECT_GE(field(topo->status(), "vf", "rx_packets"), field(before, "vf", "rx_packets"))
      << before["counters"] << " -> " << topo->status()["counters"];
  // A count no tvfd wrote (it would wrap at the next frame) is refused.
  topo->stopTvfd(SIGTERM);
  std::ofstream(topo->dir() + "/counters-tvf0.json")
      << R"({"synthetic":{"rx_packets":18446744073709551605,"tx_packets":18446744073709551605},"vf":{}})";
  ASSERT_TRUE(topo->restartTvfd());
  EXPECT_TRUE(topo->waitForLog("with a count beyond 2^62")) << topo->tvfdLog();
  EXPECT_LT(field(topo->status(), "synthetic", "rx_packets"), std::uint64_t{1} << 62);
}

// A restarted tvfd found the VF its previous run had claimed and waited
// attach_wait for it (2 s by default) with TX on the synthetic, as for a
// new VF. It takes it back at once now; a new VF still waits.
TEST_F(Datapath, ARestartTakesItsVfBackWithoutAttachWait) {
  ASSERT_TRUE(topo->startTvfd("    persist: true\n    attach_wait_ms: 1500\n"));
  attachVf();
  auto waits = [&] {
    const std::string log = topo->tvfdLog();
    std::size_t n = 0;
    for (auto at = log.find("found; attaching in"); at != std::string::npos; at = log.find("found; attaching in", at + 1))
      ++n;
    return n;
  };
  ASSERT_EQ(waits(), 1u) << topo->tvfdLog();
  for (const int signal : {SIGTERM, SIGKILL}) {
    topo->stopTvfd(signal);
    ASSERT_TRUE(topo->restartTvfd());
    ASSERT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump();
    EXPECT_TRUE(topo->waitForLog("VF vf0 was this pair's before the restart; attaching it now")) << topo->tvfdLog();
    EXPECT_EQ(waits(), 1u) << signal << "\n" << topo->tvfdLog();
    // tvf's own start (the synthetic's flags set to tvf0's) is no change
    // behind its back, however old the link event it meets.
    EXPECT_FALSE(contains(topo->tvfdLog(), "changed behind tvf's back")) << topo->tvfdLog();
  }
  // A VF plugged later is new: it waits.
  topo->delVf("vf0");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  topo->addVf("vf1");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_EQ(waits(), 2u) << topo->tvfdLog();
}

// tvf0 loses its carrier when tvfd dies (its last TAP queue closes) and
// when neither backend has one; neither is another network. The kernel's
// default flushes tvf0's neighbours then, and a datagram sent through an
// entry in use at that moment is dropped: kernel mode's kill -9 lost one
// of 50,000 that way now and then. tvf0's neighbours stay; an operator's
// own choice on a re-adopted tvf0 stays too.
TEST_F(Datapath, Tvf0KeepsItsNeighboursWhenItLosesCarrier) {
  ASSERT_TRUE(topo->startTvfd("    persist: true\n"));
  ASSERT_EQ(topo->inGuest("ping -n -q -c 1 -W 5 198.18.0.1 && ping -6 -n -q -c 1 -W 5 fd00:18::1").status, 0);
  auto neighbours = [&] {
    return topo->inGuest("ip neigh show dev tvf0 198.18.0.1; ip -6 neigh show dev tvf0 fd00:18::1").out;
  };
  auto count = [](const std::string& text, const std::string& word) {
    std::size_t n = 0;
    for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
    return n;
  };
  ASSERT_EQ(count(neighbours(), "lladdr"), 2u) << neighbours();
  topo->stopTvfd(SIGKILL);
  ASSERT_TRUE(Topology::waitFor(
      [&] { return contains(topo->inGuest("ip -o link show tvf0").out, "NO-CARRIER"); }, 10s));
  EXPECT_EQ(count(neighbours(), "lladdr"), 2u) << "'" << neighbours() << "'";
  // An operator's choice on the tvf0 a restart re-adopts is kept.
  ASSERT_EQ(topo->inGuest("sysctl -qw net.ipv4.conf.tvf0.arp_evict_nocarrier=1").status, 0);
  ASSERT_TRUE(topo->restartTvfd());
  ASSERT_TRUE(topo->waitForLog("re-adopted the existing TAP"));
  EXPECT_EQ(topo->inGuest("sysctl -n net.ipv4.conf.tvf0.arp_evict_nocarrier").out, "1\n");
}

TEST_F(Datapath, BackendsGetNoIpv6AndNeverAnswerThemselves) {
  ASSERT_TRUE(topo->startTvfd());
  attachVf();
  // IPv6 off on a backend is what keeps DAD and SLAAC from ever giving it
  // an address (switching it off also removes any it had got): once both
  // say so, no address can come later.
  for (const char* dev : {"eth0", "vf0"}) {
    EXPECT_TRUE(Topology::waitFor(
        [&] {
          return topo->inGuest(std::string("sysctl -n net.ipv6.conf.") + dev + ".disable_ipv6").out == "1\n";
        },
        10s))
        << dev;
  }
  for (const char* dev : {"eth0", "vf0"}) {
    EXPECT_EQ(topo->inGuest(std::string("ip -6 -o addr show dev ") + dev).out, "") << dev;
    EXPECT_EQ(topo->inGuest(std::string("ip -4 -o addr show dev ") + dev).out, "") << dev;
    EXPECT_NE(topo->inGuest(std::string("tc filter show dev ") + dev + " ingress").out.find("bpf"),
              std::string::npos) << dev;
  }
  // tvf0 does have its link-local and global addresses.
  EXPECT_NE(topo->inGuest("ip -6 -o addr show dev tvf0").out.find("fd00:18::2"), std::string::npos);
  // Every request to the guest is answered once, from tvf0 only.
  auto v4 = topo->inHost("ping -c 10 -i 0.02 -W 1 198.18.0.2");
  EXPECT_NE(v4.out.find(" 0% packet loss"), std::string::npos) << v4.out;
  EXPECT_EQ(v4.out.find("DUP!"), std::string::npos) << v4.out;
  auto v6 = topo->inHost("ping -6 -c 10 -i 0.02 -W 1 fd00:18::2");
  EXPECT_NE(v6.out.find(" 0% packet loss"), std::string::npos) << v6.out;
  EXPECT_EQ(v6.out.find("DUP!"), std::string::npos) << v6.out;
}

TEST_F(Datapath, CleanExitRestoresTheBackends) {
  // Give the synthetic some state of its own first. Up and down once, as a
  // NIC in use has been: the kernel gives a device its default qdisc on
  // first open, which no one can take back.
  ASSERT_EQ(topo->inGuest("ip link set eth0 up && ip link set eth0 down && "
                          "ip addr add 198.19.7.5/24 dev eth0 && ip link set eth0 promisc on mtu 1400 && "
                          "sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0").status, 0);
  auto snapshot = [&] {
    // With its multicast list: tvf0's groups, which tvf mirrors onto it, go.
    return topo->inGuest("ip -o link show eth0; ip -o addr show dev eth0; ip maddr show dev eth0; "
                         "sysctl -n net.ipv6.conf.eth0.disable_ipv6; tc qdisc show dev eth0").out;
  };
  const std::string before = snapshot();
  ASSERT_TRUE(topo->startTvfd());
  attachVf();
  EXPECT_NE(snapshot(), before);  // claimed: it really changed
  topo->stopTvfd(SIGTERM);
  EXPECT_EQ(snapshot(), before);
  EXPECT_NE(topo->tvfdLog().find("backends released"), std::string::npos);
  // persist: false: the TAP went with the daemon.
  EXPECT_NE(topo->inGuest("ip link show tvf0").status, 0);
}

}  // namespace
}  // namespace tvf::it
