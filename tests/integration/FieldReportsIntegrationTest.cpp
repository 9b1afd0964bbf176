// Field reports (issue 11), kinds 1, 5 and 6, each case with its right value:
// - a claimed link is known by its identity, not its ifindex: a VF moved to
//   another namespace and back (same ifindex) is claimed afresh; a synthetic
//   deleted and re-created (or moved away and back) is re-claimed as the
//   synthetic, and a VF plugged afterwards attaches;
// - a planned detach (the hold) survives kill -9 and SIGTERM;
// - releasing restores the routes through the synthetic that claiming removed;
// - a second tvfd started on a running one's state directory or pair fails
//   before it touches anything of the running one's.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "Topology.hpp"

namespace tvf::it {
namespace {

using namespace std::chrono_literals;

// A namespace to park links in; deleted when the test ends, also on failure.
struct Park {
  explicit Park(std::string n) : name(std::move(n)) { ok = run("ip netns add " + name).status == 0; }
  ~Park() { run("ip netns del " + name); }
  std::string name;
  bool ok = false;
};

// "3 packets transmitted, 3 received, +2 duplicates, 0% packet loss": the duplicates.
int duplicates(const std::string& pingOut) {
  std::smatch m;
  static const std::regex re(R"(\+(\d+) duplicates)");
  return std::regex_search(pingOut, m, re) ? std::stoi(m[1]) : 0;
}

class FieldReports : public TopologyTest {
 protected:
  std::string migrate(const std::string& phase) {
    auto r = topo->inGuest("TVFCTL=" + std::string(TVFCTL_PATH) + " " + TVF_SOURCE_DIR +
                           "/conf/hotplug/tvf-migrate --socket " + topo->socket() + " " + phase);
    EXPECT_EQ(r.status, 0) << phase << ": " << r.out;
    return r.out;
  }
  // persist: false: a new daemon makes a new tvf0, which the guest configures again.
  void restartAndConfigure() {
    ASSERT_TRUE(topo->restartTvfd());
    ASSERT_EQ(topo->inGuest("ip addr replace 198.18.0.2/24 dev tvf0 && ip addr replace fd00:18::2/64 dev tvf0 nodad && "
                            "ip link set tvf0 up")
                  .status,
              0);
  }
  int ifindexOf(const std::string& ifname) {
    auto r = topo->inGuest("cat /sys/class/net/" + ifname + "/ifindex");
    return r.status == 0 ? std::stoi(r.out) : -1;
  }
  nlohmann::json claimRecords() {
    std::ifstream in(topo->dir() + "/claims.json");
    if (!in) return nlohmann::json::array();
    auto j = nlohmann::json::parse(in, nullptr, false);
    return j.is_discarded() ? nlohmann::json::array() : j;
  }
  int recordsOf(int ifindex) {
    int n = 0;
    for (const auto& r : claimRecords())
      if (r.value("ifindex", 0) == ifindex) ++n;
    return n;
  }
  nlohmann::json holdFile() {
    std::ifstream in(topo->dir() + "/hold-tvf0.json");
    if (!in) return nullptr;
    auto j = nlohmann::json::parse(in, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
  }
  // What a claimed backend must look like: our program on its ingress hook,
  // IPv6 off, and tvf0's multicast list mirrored.
  void expectClaimed(const std::string& ifname, bool multicast) {
    EXPECT_TRUE(contains(topo->inGuest("tc filter show dev " + ifname + " ingress").out, "tvf_"))
        << ifname << ": no ingress program of tvf's";
    EXPECT_EQ(topo->inGuest("sysctl -n net.ipv6.conf." + ifname + ".disable_ipv6").out, "1\n") << ifname;
    // fd00:18::2's solicited-node group, joined by tvf0 and mirrored by tvf.
    if (multicast) {
      EXPECT_TRUE(Topology::waitFor(
          [&] { return contains(topo->inGuest("ip maddr show dev " + ifname).out, "33:33:ff:00:00:02"); }, 5s))
          << topo->inGuest("ip maddr show dev " + ifname).out;
    }
  }
  // Traffic both ways through tvf0: the guest's pings first (they also
  // teach the host's bridge where tvf0's MAC is now, as the existing tests
  // do), then the host's, each answered exactly once.
  void expectOneReplyEach(const std::string& what) {
    // A re-created veth's port on the host's bridge forwards only once the
    // bridge enables it (linkwatch, on its own time): wait for the path to
    // answer once, then count.
    EXPECT_TRUE(Topology::waitFor([&] { return topo->inGuest("ping -c 1 -W 1 198.18.0.1").status == 0; }, 10s))
        << what << ": no answer through tvf0";
    auto out = topo->inGuest("ping -c 5 -i 0.05 -W 2 198.18.0.1");
    EXPECT_TRUE(contains(out.out, " 0% packet loss")) << what << ": " << out.out;
    auto in = topo->inHost("ping -c 10 -i 0.05 -W 1 198.18.0.2");
    EXPECT_TRUE(contains(in.out, " 0% packet loss")) << what << ": " << in.out;
    EXPECT_EQ(duplicates(in.out), 0) << what << ": " << in.out;
  }
  void recreateSynthetic() {
    ASSERT_EQ(topo->inGuest("ip link del eth0").status, 0);
    ASSERT_TRUE(Topology::waitFor([&] { return contains(topo->inGuest("ip link show tvf0").out, "NO-CARRIER"); }, 10s))
        << topo->inGuest("ip link show tvf0").out;
    ASSERT_EQ(run("ip -n " + topo->guest() + " link add eth0 address 02:00:c6:12:00:02 mtu 1500 type veth peer name hsyn netns " +
                  topo->host())
                  .status,
              0);
    ASSERT_EQ(topo->inHost("ip link set hsyn master br0 up").status, 0);
  }
  void expectReclaimedSynthetic(int newIndex) {
    EXPECT_TRUE(Topology::waitFor(
        [&] {
          auto s = topo->status();
          return !s.is_null() && s["synthetic"]["ifindex"] == newIndex && s["synthetic"]["carrier"] == true;
        },
        10s))
        << topo->status().dump();
    auto s = topo->status();
    EXPECT_EQ(s["state"], "novf");
    EXPECT_TRUE(s["vf"].is_null()) << s.dump();
    EXPECT_EQ(s["refused_vfs"], 0);
    EXPECT_TRUE(Topology::waitFor([&] { return !contains(topo->inGuest("ip link show tvf0").out, "NO-CARRIER"); }, 10s));
    expectClaimed("eth0", true);
    // Traffic flows through the new synthetic.
    auto ping = topo->inGuest("ping -c 5 -i 0.1 -W 2 198.18.0.1");
    EXPECT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
    // A VF plugged afterwards attaches (not refused as a second VF).
    topo->addVf("vf0");
    EXPECT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump();
    EXPECT_EQ(topo->status()["refused_vfs"], 0);
    EXPECT_EQ(topo->status()["synthetic"]["ifindex"], newIndex);
    expectOneReplyEach("VF after the synthetic came back");
  }
};

// ---- kind 1: a claimed link's identity, not its ifindex ---------------------

TEST_F(FieldReports, VfMovedAwayAndBackIsClaimedAfresh) {
  Park park(topo->prefix() + "-p");
  ASSERT_TRUE(park.ok);
  ASSERT_TRUE(topo->startTvfd());
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  const int vfIndex = ifindexOf("vf0");
  ASSERT_GT(vfIndex, 0);
  for (int flap = 0; flap < 3; ++flap) {
    ASSERT_EQ(topo->inGuest("ip link set vf0 netns " + park.name).status, 0);
    ASSERT_TRUE(topo->waitForState("novf", "synthetic")) << topo->status().dump();
    EXPECT_EQ(recordsOf(vfIndex), 0) << "a link that left keeps its claim record: " << claimRecords().dump();
    ASSERT_EQ(run("ip -n " + park.name + " link set vf0 netns " + topo->guest()).status, 0);
    ASSERT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump();
    ASSERT_EQ(ifindexOf("vf0"), vfIndex) << "the kernel kept the ifindex";
    expectClaimed("vf0", true);
    EXPECT_EQ(recordsOf(vfIndex), 1) << claimRecords().dump();
    expectOneReplyEach("flap " + std::to_string(flap));
  }
  EXPECT_EQ(topo->status()["refused_vfs"], 0);
}

TEST_F(FieldReports, VfRenamedWhileAwayIsClaimedAfresh) {
  Park park(topo->prefix() + "-p");
  ASSERT_TRUE(park.ok);
  ASSERT_TRUE(topo->startTvfd());
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  const int vfIndex = ifindexOf("vf0");
  ASSERT_EQ(topo->inGuest("ip link set vf0 netns " + park.name).status, 0);
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  ASSERT_EQ(run("ip -n " + park.name + " link set vf0 name vfx").status, 0);
  ASSERT_EQ(run("ip -n " + park.name + " link set vfx netns " + topo->guest()).status, 0);
  ASSERT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump();
  EXPECT_EQ(topo->status()["vf"]["ifname"], "vfx");
  EXPECT_EQ(ifindexOf("vfx"), vfIndex);
  expectClaimed("vfx", true);
  expectOneReplyEach("VF back");
}

TEST_F(FieldReports, VfReplacedByANewLinkWithItsIfindexIsClaimedAfresh) {
  ASSERT_TRUE(topo->startTvfd());
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  const int vfIndex = ifindexOf("vf0");
  topo->delVf("vf0");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  // A new VF that the kernel gives the same ifindex.
  ASSERT_EQ(run("ip -n " + topo->guest() + " link add vf1 index " + std::to_string(vfIndex) +
                " address 02:00:c6:12:00:02 type veth peer name hvf1 netns " + topo->host())
                .status,
            0);
  ASSERT_EQ(topo->inHost("ip link set hvf1 master br0 up").status, 0);
  ASSERT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump();
  EXPECT_EQ(ifindexOf("vf1"), vfIndex);
  expectClaimed("vf1", true);
  EXPECT_EQ(recordsOf(vfIndex), 1) << claimRecords().dump();
  expectOneReplyEach("VF back");
}

TEST_F(FieldReports, RecreatedSyntheticIsReclaimedAsTheSynthetic) {
  ASSERT_TRUE(topo->startTvfd());
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  const int oldIndex = ifindexOf("eth0");
  ASSERT_NO_FATAL_FAILURE(recreateSynthetic());
  const int newIndex = ifindexOf("eth0");
  ASSERT_NE(newIndex, oldIndex);
  expectReclaimedSynthetic(newIndex);
}

TEST_F(FieldReports, SyntheticMovedAwayAndBackIsClaimedAgain) {
  Park park(topo->prefix() + "-p");
  ASSERT_TRUE(park.ok);
  ASSERT_TRUE(topo->startTvfd());
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  const int index = ifindexOf("eth0");
  ASSERT_EQ(topo->inGuest("ip link set eth0 netns " + park.name).status, 0);
  ASSERT_TRUE(Topology::waitFor([&] { return contains(topo->inGuest("ip link show tvf0").out, "NO-CARRIER"); }, 10s));
  ASSERT_EQ(run("ip -n " + park.name + " link set eth0 netns " + topo->guest()).status, 0);
  ASSERT_EQ(ifindexOf("eth0"), index);
  expectReclaimedSynthetic(index);
  EXPECT_EQ(recordsOf(index), 1) << claimRecords().dump();
}

TEST_F(FieldReports, SyntheticRecreatedWhileTheVfCarriesTxIsTheFallbackAfterwards) {
  ASSERT_TRUE(topo->startTvfd());
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  const int oldIndex = ifindexOf("eth0");
  ASSERT_EQ(topo->inGuest("ip link del eth0").status, 0);
  ASSERT_EQ(run("ip -n " + topo->guest() + " link add eth0 address 02:00:c6:12:00:02 mtu 1500 type veth peer name hsyn netns " +
                topo->host())
                .status,
            0);
  ASSERT_EQ(topo->inHost("ip link set hsyn master br0 up").status, 0);
  const int newIndex = ifindexOf("eth0");
  ASSERT_NE(newIndex, oldIndex);
  ASSERT_TRUE(Topology::waitFor(
      [&] {
        auto s = topo->status();
        return !s.is_null() && s["synthetic"]["ifindex"] == newIndex && s["synthetic"]["carrier"] == true;
      },
      10s))
      << topo->status().dump();
  EXPECT_EQ(topo->status()["active"], "vf");
  EXPECT_EQ(topo->status()["refused_vfs"], 0);
  expectClaimed("eth0", true);
  expectOneReplyEach("VF, the synthetic re-created");
  // The VF goes: TX falls back to the new synthetic, and traffic flows.
  topo->delVf("vf0");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  expectOneReplyEach("the re-created synthetic");
}

// ---- kind 5: a restart never forgets a planned detach -----------------------

class FieldReportsHold : public FieldReports, public ::testing::WithParamInterface<int> {};

TEST_P(FieldReportsHold, HoldSurvivesARestart) {
  ASSERT_TRUE(topo->startTvfd());
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  migrate("pre");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  ASSERT_EQ(topo->status()["held"], true);
  topo->stopTvfd(GetParam());
  ASSERT_NO_FATAL_FAILURE(restartAndConfigure());
  // The VF is still there: a daemon that forgot the hold attaches it after
  // attach_wait_ms (300 ms). Give it ten times that.
  EXPECT_FALSE(Topology::waitFor(
      [&] {
        auto s = topo->status();
        return s.is_null() || s["state"] != "novf" || s["active"] != "synthetic" || s["held"] != true;
      },
      3s))
      << topo->status().dump();
  EXPECT_EQ(topo->status()["held"], true);
  EXPECT_EQ(topo->status()["active"], "synthetic");
  ASSERT_FALSE(holdFile().is_null());
  EXPECT_EQ(holdFile()["held"], true);
  migrate("post");
  EXPECT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump();
  EXPECT_EQ(topo->status()["held"], false);
  EXPECT_EQ(holdFile()["held"], false) << holdFile().dump();
  // And a restart now does not bring the hold back.
  topo->stopTvfd(SIGTERM);
  ASSERT_NO_FATAL_FAILURE(restartAndConfigure());
  EXPECT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump();
  EXPECT_EQ(topo->status()["held"], false);
  auto ping = topo->inHost("ping -c 5 -i 0.1 -W 1 198.18.0.2");
  EXPECT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
}

// `tvfctl attach PAIR IFNAME` names the one VF the pair takes: a restart
// forgot it (attach_only null), and the pair took whichever VF came first.
TEST_P(FieldReportsHold, AttachOnlySurvivesARestart) {
  ASSERT_TRUE(topo->startTvfd("    persist: true\n"));
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  topo->addVf("vf1");
  ASSERT_EQ(topo->tvfctl("detach tvf0 --wait").status, 0);
  ASSERT_EQ(topo->tvfctl("attach tvf0 vf1").status, 0);
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  ASSERT_EQ(topo->status()["attach_only"], "vf1") << topo->status().dump();
  ASSERT_TRUE(Topology::waitFor([&] { return holdFile().value("attach_only", nlohmann::json()) == "vf1"; }, 10s))
      << holdFile().dump();
  topo->stopTvfd(GetParam());
  ASSERT_TRUE(topo->restartTvfd());
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_EQ(topo->status()["vf"]["ifname"], "vf1") << topo->status().dump();
  EXPECT_EQ(topo->status()["attach_only"], "vf1") << topo->status().dump();
  // vf1 goes: vf0 stays untaken, as before the restart.
  topo->delVf("vf1");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  EXPECT_EQ(topo->status()["attach_only"], "vf1") << topo->status().dump();
  EXPECT_TRUE(topo->waitForLog("VF vf0 ignored, attach asked for vf1")) << topo->tvfdLog();
}

INSTANTIATE_TEST_SUITE_P(Signals, FieldReportsHold, ::testing::Values(SIGKILL, SIGTERM),
                         [](const auto& p) { return std::string(p.param == SIGKILL ? "Kill9" : "Sigterm"); });

// ---- kinds 1 and 5: the previous run's claims that no pair takes back ------
// A tvfd killed while it held a claim leaves its record; the next run took
// the claim back only when its pair took that netdev again. A VF it did not
// take (a planned detach killed before it had released the VF, another VF
// taken first) kept the previous run's program and IPv6 off for good, even
// past a clean exit. Now such a backend is released: what it had before the
// claim comes back.

class FieldReportsInherited : public FieldReports {
 protected:
  // A VF veth at a chosen ifindex, its peer on the host's bridge.
  void plugVfAt(const std::string& name, int ifindex) {
    ASSERT_EQ(run("ip -n " + topo->guest() + " link add " + name + " index " + std::to_string(ifindex) +
                  " address 02:00:c6:12:00:02 type veth peer name h" + name + " netns " + topo->host())
                  .status,
              0);
    ASSERT_EQ(topo->inHost("ip link set h" + name + " master br0 up").status, 0);
  }
  // Released: no program of tvf's on its ingress, IPv6 as it was (on), no record.
  void expectReleased(const std::string& ifname) {
    EXPECT_TRUE(Topology::waitFor(
        [&] { return !contains(topo->inGuest("tc filter show dev " + ifname + " ingress").out, "tvf_"); }, 10s))
        << ifname << ": " << topo->inGuest("tc filter show dev " + ifname + " ingress").out;
    EXPECT_EQ(topo->inGuest("sysctl -n net.ipv6.conf." + ifname + ".disable_ipv6").out, "0\n") << ifname;
    EXPECT_TRUE(Topology::waitFor([&] { return recordsOf(ifindexOf(ifname)) == 0; }, 10s)) << claimRecords().dump();
  }
};

// A planned detach killed within its drain (`tvfctl detach` without --wait,
// then kill -9) leaves the hold on file and the VF's record: the hold is
// written first, the VF released after the drain. Made here without the race:
// the VF's record left by a kill -9, the hold as that detach writes it.
TEST_F(FieldReportsInherited, AVfDetachedJustBeforeAKillIsReleasedByTheNextRun) {
  ASSERT_TRUE(topo->startTvfd("    persist: true\n"));
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  topo->stopTvfd(SIGKILL);
  ASSERT_EQ(recordsOf(ifindexOf("vf0")), 1) << claimRecords().dump();
  { std::ofstream(topo->dir() + "/hold-tvf0.json") << R"({"held":true,"pair":"tvf0"})" << "\n"; }
  ASSERT_TRUE(topo->restartTvfd());
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  EXPECT_EQ(topo->status()["held"], true);
  expectReleased("vf0");
  // And a clean exit leaves it as it is.
  topo->stopTvfd(SIGTERM);
  EXPECT_FALSE(contains(topo->inGuest("tc filter show dev vf0 ingress").out, "tvf_"));
  EXPECT_EQ(topo->inGuest("sysctl -n net.ipv6.conf.vf0.disable_ipv6").out, "0\n");
}

TEST_F(FieldReportsInherited, ARestartTakesBackItsVfThoughAnotherHasALowerIfindex) {
  ASSERT_TRUE(topo->startTvfd("    persist: true\n"));
  ASSERT_NO_FATAL_FAILURE(plugVfAt("vf9", 50));
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  ASSERT_EQ(topo->status()["vf"]["ifname"], "vf9");
  ASSERT_NO_FATAL_FAILURE(plugVfAt("vf8", 40));  // a second VF: not taken
  ASSERT_TRUE(Topology::waitFor([&] { return topo->status()["candidates"] == nlohmann::json{"vf8"}; }, 10s))
      << topo->status().dump();
  topo->stopTvfd(SIGKILL);
  ASSERT_TRUE(topo->restartTvfd());
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_EQ(topo->status()["vf"]["ifname"], "vf9") << topo->status().dump();
  EXPECT_TRUE(topo->waitForLog("VF vf9 was this pair's before the restart")) << topo->tvfdLog();
  expectClaimed("vf9", false);
  EXPECT_EQ(topo->inGuest("sysctl -n net.ipv6.conf.vf8.disable_ipv6").out, "0\n");
  EXPECT_FALSE(contains(topo->inGuest("tc filter show dev vf8 ingress").out, "tvf_"));
}

TEST_F(FieldReportsInherited, AClaimRecordIsNotAppliedToAnotherNetdevWithItsIfindex) {
  ASSERT_TRUE(topo->startTvfd("    persist: true\n"));
  ASSERT_NO_FATAL_FAILURE(plugVfAt("vf0", 60));
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  topo->stopTvfd(SIGKILL);
  topo->delVf("vf0");
  // A new VF that the kernel happens to give ifindex 60, with a state of its own.
  ASSERT_NO_FATAL_FAILURE(plugVfAt("vfn", 60));
  ASSERT_EQ(topo->inGuest("ip link set vfn mtu 1400 && ip addr add 198.18.0.44/24 dev vfn && "
                          "sysctl -qw net.ipv6.conf.vfn.disable_ipv6=1")
                .status,
            0);
  ASSERT_TRUE(topo->restartTvfd());
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_FALSE(contains(topo->tvfdLog(), "re-claimed vfn")) << topo->tvfdLog();
  // Released at a clean exit: what vfn had before this run's claim.
  topo->stopTvfd(SIGTERM);
  auto vfn = topo->inGuest("ip -o link show vfn; ip -o -4 addr show dev vfn").out;
  EXPECT_TRUE(contains(vfn, "mtu 1400")) << vfn;
  EXPECT_TRUE(contains(vfn, "198.18.0.44/24")) << vfn;
  EXPECT_EQ(topo->inGuest("sysctl -n net.ipv6.conf.vfn.disable_ipv6").out, "1\n");
}

// ---- kind 3: a claimed VF that stops matching is released --------------------

TEST_F(FieldReports, AVfWhoseMacChangesIsReleased) {
  ASSERT_TRUE(topo->startTvfd());
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  const int vf0 = ifindexOf("vf0");
  ASSERT_EQ(topo->inGuest("ip link set vf0 address 02:00:c6:12:00:98").status, 0);
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  EXPECT_TRUE(Topology::waitFor(
      [&] { return !contains(topo->inGuest("tc filter show dev vf0 ingress").out, "tvf_"); }, 10s))
      << topo->inGuest("tc filter show dev vf0 ingress").out;
  // No record: no claim that tvf keeps up on it any more.
  EXPECT_TRUE(Topology::waitFor([&] { return recordsOf(vf0) == 0; }, 10s)) << claimRecords().dump();
  EXPECT_EQ(topo->inGuest("sysctl -n net.ipv6.conf.vf0.disable_ipv6").out, "0\n");
  EXPECT_TRUE(topo->waitForLog("VF vf0 no longer matches"));
}

// ---- state files: whatever is in them, tvfd starts ------------------------

TEST_F(FieldReports, OddStateFilesAreIgnoredWithAWarning) {
  ASSERT_TRUE(topo->startTvfd("    persist: true\n"));
  topo->stopTvfd(SIGTERM);
  const std::string d = topo->dir();
  auto said = [&](const std::string& what) {
    const std::string log = topo->tvfdLog();
    std::size_t n = 0;
    for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  for (const std::string& hold : {R"({"held":"yes","pair":"tvf0"})", R"({"held":1,"pair":"tvf0"})",
                                  R"({"held":true,"pair":"other"})", R"({"held":true})"}) {
    { std::ofstream(d + "/hold-tvf0.json") << hold; }
    const std::size_t before = said("ignoring unreadable hold state");
    ASSERT_TRUE(topo->restartTvfd()) << hold << "\n" << topo->tvfdLog();
    EXPECT_EQ(topo->status()["held"], false) << hold;
    EXPECT_EQ(said("ignoring unreadable hold state"), before + 1) << hold;
    topo->stopTvfd(SIGTERM);
  }
  std::filesystem::remove(d + "/hold-tvf0.json");
  for (const char* f : {"hold-tvf0.json", "intent-tvf0.json", "counters-tvf0.json", "events-tvf0.json", "claims.json"}) {
    std::filesystem::remove(d + "/" + f);
    ASSERT_TRUE(std::filesystem::create_directory(d + "/" + f)) << f;
    const std::size_t before = said("is a directory");
    ASSERT_TRUE(topo->restartTvfd()) << f << "\n" << topo->tvfdLog();
    EXPECT_EQ(topo->status()["state"], "novf") << f;
    EXPECT_EQ(said("is a directory"), before + 1) << f << "\n" << topo->tvfdLog();
    topo->stopTvfd(SIGTERM);
    std::filesystem::remove(d + "/" + f);
  }
}

// ---- kind 5: a second tvfd never touches a running one's state --------------

class FieldReportsSecondTvfd : public FieldReports {
 protected:
  static std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Starts the first tvfd (with `pairExtra`) and attaches vf0.
  void startActive(const std::string& pairExtra = "") {
    ASSERT_TRUE(topo->startTvfd(pairExtra));
    topo->addVf("vf0");
    ASSERT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump();
    ASSERT_EQ(recordsOf(ifindexOf("vf0")), 1) << claimRecords().dump();
  }
  // What a second tvfd may not change: the first's files and its backends' hooks.
  std::string snapshot() {
    std::string s;
    for (const std::string f : {"claims.json", "hold-tvf0.json", "events-tvf0.json"})
      s += f + ": " + slurp(topo->dir() + "/" + f) + "\n";
    for (const std::string dev : {"tvf0", "eth0", "vf0"})
      s += dev + ":\n" + topo->guestTcPrograms(dev, "ingress") + topo->guestTcPrograms(dev, "egress");
    return s;
  }
  // Runs a second tvfd on `config` in the guest; it must exit by itself.
  CommandResult runSecond(const std::string& config) {
    return topo->inGuest("timeout -s KILL 30 " + std::string(TVFD_PATH) + " --config " + config + " 2>&1");
  }
  // A config of its own in dir/second, control socket there too.
  std::string secondConfig(const std::string& pairYaml) {
    const std::string dir = topo->dir() + "/second";
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/tvf.yaml") << "control_socket: " << dir << "/tvf.sock\npairs:\n" << pairYaml;
    return dir + "/tvf.yaml";
  }
  void expectFirstUnchanged(const std::string& before) {
    EXPECT_EQ(snapshot(), before);
    EXPECT_TRUE(topo->tvfdRunning());
    auto s = topo->status();
    EXPECT_EQ(s["state"], "active") << s.dump();
    EXPECT_EQ(s["active"], "vf") << s.dump();
    expectOneReplyEach("the first tvfd after the second one's try");
  }
};

// The case as reported: a second tvfd on the same config emptied claims.json
// before it failed on TUNSETIFF (EBUSY); after a kill -9 and restart the
// clean exit then left vf0 with IPv6 off and tvf's hooks on eth0 and vf0.
TEST_F(FieldReportsSecondTvfd, SameConfigIsRefusedAndTheClaimRecordsStay) {
  ASSERT_NO_FATAL_FAILURE(startActive());
  const std::string before = snapshot();
  auto second = runSecond(topo->dir() + "/tvf.yaml");
  EXPECT_EQ(second.status, 1) << second.out;
  EXPECT_TRUE(contains(second.out, "another tvfd (pid " + std::to_string(topo->tvfdPid()) + ") uses the state directory " +
                                       topo->dir()))
      << second.out;
  expectFirstUnchanged(before);
  // The rest of the report: kill -9, restart, clean exit restores everything.
  topo->stopTvfd(SIGKILL);
  ASSERT_NO_FATAL_FAILURE(restartAndConfigure());
  ASSERT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump();
  topo->stopTvfd(SIGTERM);
  EXPECT_TRUE(contains(topo->tvfdLog(), "backends released")) << topo->tvfdLog();
  // vf0 came with IPv6 on (eth0 with it off: topology.sh).
  EXPECT_EQ(topo->inGuest("sysctl -n net.ipv6.conf.vf0.disable_ipv6").out, "0\n");
  EXPECT_EQ(topo->inGuest("sysctl -n net.ipv6.conf.eth0.disable_ipv6").out, "1\n");
  for (const std::string dev : {"eth0", "vf0"}) {
    const std::string tc = topo->inGuest("tc qdisc show dev " + dev).out + topo->guestTcPrograms(dev, "ingress") +
                           topo->guestTcPrograms(dev, "egress");
    EXPECT_FALSE(contains(tc, "clsact")) << dev << ":\n" << tc;
    EXPECT_FALSE(contains(tc, "tvf_")) << dev << ":\n" << tc;
  }
}

// The same pair from another config (its own control socket and state
// directory). With queues: 2, TUNSETIFF would attach two more queues to the
// running tvf0 instead of failing, and the second daemon ran on.
TEST_F(FieldReportsSecondTvfd, SamePairFromAnotherConfigIsRefusedBeforeItsTap) {
  ASSERT_NO_FATAL_FAILURE(startActive("    queues: 2\n"));
  const std::string before = snapshot();
  auto second = runSecond(secondConfig("  - name: tvf0\n    synthetic: eth0\n    queues: 2\n"));
  EXPECT_EQ(second.status, 1) << second.out;
  EXPECT_TRUE(contains(second.out, "another tvfd in this network namespace runs pair tvf0")) << second.out;
  EXPECT_TRUE(recordsOf(ifindexOf("eth0")) == 1 && recordsOf(ifindexOf("vf0")) == 1) << claimRecords().dump();
  expectFirstUnchanged(before);
}

// Another pair name on the same synthetic (by name here; a `mac:` spec finds
// the same link): refused before it makes its TAP.
TEST_F(FieldReportsSecondTvfd, SameSyntheticUnderAnotherPairNameIsRefused) {
  ASSERT_NO_FATAL_FAILURE(startActive());
  const std::string before = snapshot();
  auto second = runSecond(secondConfig("  - name: tvf1\n    synthetic: mac:02:00:c6:12:00:02\n"));
  EXPECT_EQ(second.status, 1) << second.out;
  EXPECT_TRUE(contains(second.out, "another tvfd in this network namespace runs a pair on the synthetic 02:00:c6:12:00:02"))
      << second.out;
  EXPECT_NE(topo->inGuest("ip link show tvf1").status, 0) << "the refused daemon made its TAP";
  expectFirstUnchanged(before);
}

// A tvfd refused by another's lock leaves its own claim records alone: they
// are what it needs to restore the backends once the other one is gone.
// (It read them, then its failed start released nothing and wrote [].)
TEST_F(FieldReportsSecondTvfd, ARefusedStartKeepsItsOwnClaimRecords) {
  ASSERT_NO_FATAL_FAILURE(startActive());
  topo->stopTvfd(SIGKILL);  // its records stay: eth0 and vf0 as they were before
  const std::string records = slurp(topo->dir() + "/claims.json");
  ASSERT_EQ(recordsOf(ifindexOf("vf0")), 1) << records;
  // Another config takes the pair meanwhile.
  const std::string other = secondConfig("  - name: tvf0\n    synthetic: eth0\n    attach_wait_ms: 300\n");
  const std::string otherSocket = topo->dir() + "/second/tvf.sock";
  auto bg = topo->inGuest(std::string(TVFD_PATH) + " --config " + other + " > " + topo->dir() +
                          "/second/log 2>&1 & echo $!");
  const int otherPid = std::atoi(bg.out.c_str());
  ASSERT_GT(otherPid, 0) << bg.out;
  const auto otherState = [&] {
    return topo->inGuest(std::string(TVFCTL_PATH) + " --socket " + otherSocket + " status --json").out;
  };
  EXPECT_TRUE(Topology::waitFor([&] { return contains(otherState(), "\"state\": \"active\""); }, 10s)) << otherState();
  // The first config again: refused, its records untouched.
  auto refused = runSecond(topo->dir() + "/tvf.yaml");
  EXPECT_EQ(refused.status, 1) << refused.out;
  EXPECT_TRUE(contains(refused.out, "another tvfd in this network namespace runs pair tvf0 (pid " +
                                        std::to_string(otherPid) + ")"))
      << refused.out;
  EXPECT_EQ(slurp(topo->dir() + "/claims.json"), records);
  // The other one goes; the first one back and out again restores vf0.
  ::kill(otherPid, SIGTERM);
  EXPECT_TRUE(Topology::waitFor([&] { return ::kill(otherPid, 0) != 0; }, 10s));
  ASSERT_NO_FATAL_FAILURE(restartAndConfigure());
  ASSERT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump();
  topo->stopTvfd(SIGTERM);
  EXPECT_EQ(topo->inGuest("sysctl -n net.ipv6.conf.vf0.disable_ipv6").out, "0\n");
  EXPECT_FALSE(contains(topo->inGuest("tc qdisc show dev vf0").out, "clsact"));
}

// One config naming one synthetic twice (by name, by MAC), which --check
// cannot see: said as such, not as another tvfd's.
TEST_F(FieldReportsSecondTvfd, OneSyntheticTwiceInOneConfigIsSaidAsSuch) {
  auto r = runSecond(secondConfig("  - name: tvf1\n    synthetic: eth0\n  - name: tvf2\n    synthetic: "
                                  "mac:02:00:c6:12:00:02\n"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "pairs tvf1 and tvf2 name the same synthetic eth0 (02:00:c6:12:00:02)")) << r.out;
  EXPECT_FALSE(contains(r.out, "another tvfd")) << r.out;
  EXPECT_NE(topo->inGuest("ip link show tvf1").status, 0);
}

// ---- kind 6: releasing restores everything claiming removed -----------------

class FieldReportsRoutes : public FieldReports, public ::testing::WithParamInterface<bool> {
 protected:
  void addRoutes() {
    ASSERT_EQ(topo->inGuest("sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0").status, 0);
    ASSERT_EQ(topo->inGuest("ip link set eth0 up && ip addr add 198.18.0.3/24 dev eth0 && "
                            "ip addr add fd00:18::3/64 dev eth0 nodad")
                  .status,
              0);
    ASSERT_EQ(topo->inGuest("ip route add 198.18.50.0/24 via 198.18.0.1 dev eth0").status, 0);
    ASSERT_EQ(topo->inGuest("ip route add default via 198.18.0.1 dev eth0").status, 0);
    ASSERT_EQ(topo->inGuest("ip -6 route add fd00:50::/64 via fd00:18::1 dev eth0").status, 0);
    ASSERT_EQ(topo->inGuest("ip -6 route add default via fd00:18::1 dev eth0 metric 1024").status, 0);
  }
  void expectRoutes() {
    const auto v4 = topo->inGuest("ip route show dev eth0").out;
    EXPECT_TRUE(contains(v4, "198.18.50.0/24 via 198.18.0.1")) << v4;
    EXPECT_TRUE(contains(v4, "default via 198.18.0.1")) << v4;
    const auto v6 = topo->inGuest("ip -6 route show dev eth0").out;
    EXPECT_TRUE(contains(v6, "fd00:50::/64 via fd00:18::1")) << v6;
    EXPECT_TRUE(contains(v6, "default via fd00:18::1")) << v6;
    EXPECT_TRUE(contains(topo->inGuest("ip -o addr show dev eth0").out, "198.18.0.3/24"));
  }
};

TEST_P(FieldReportsRoutes, ReleaseRestoresRoutesThroughTheSynthetic) {
  ASSERT_NO_FATAL_FAILURE(addRoutes());
  ASSERT_TRUE(topo->startTvfd());
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  EXPECT_FALSE(contains(topo->inGuest("ip route show dev eth0").out, "198.18.50.0/24"));
  if (GetParam()) {
    topo->stopTvfd(SIGKILL);
    ASSERT_TRUE(topo->restartTvfd());
    ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  }
  topo->stopTvfd(SIGTERM);
  expectRoutes();
  // Traffic through the restored routes: the gateway answers.
  auto ping = topo->inGuest("ping -c 3 -i 0.1 -W 2 -I eth0 198.18.0.1");
  EXPECT_TRUE(contains(ping.out, " 0% packet loss")) << ping.out;
}

INSTANTIATE_TEST_SUITE_P(Exits, FieldReportsRoutes, ::testing::Values(false, true),
                         [](const auto& p) { return std::string(p.param ? "AfterKill9AndRestart" : "CleanExit"); });

}  // namespace
}  // namespace tvf::it
