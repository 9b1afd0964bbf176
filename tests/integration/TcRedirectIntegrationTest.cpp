// The kernel datapath's programs (datapath/kernel/TcRedirect) on their own,
// without tvfd: the test process holds a TAP tvf0 in the guest namespace,
// claims eth0 and the VF veth by hand (no addresses, IPv6 off), loads and
// attaches the programs itself, and drives the slot the way the daemon will.
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <regex>
#include <thread>

#include "datapath/kernel/TcRedirect.hpp"
#include "Topology.hpp"

namespace tvf::it {
namespace {

constexpr const char* kMac = "02:00:c6:12:00:02";  // topology.sh's MAC of eth0 and the VFs

std::uint64_t sysfsCounter(const Topology& t, const std::string& dev, const std::string& name) {
  auto r = t.inGuest("cat /sys/class/net/" + dev + "/statistics/" + name);
  return r.status == 0 ? std::stoull(r.out) : 0;
}

struct PingResult {
  int sent = -1, received = -1;
};
PingResult parsePing(const std::string& out) {
  PingResult p;
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"((\d+) packets transmitted, (\d+) received)"))) {
    p.sent = std::stoi(m[1]);
    p.received = std::stoi(m[2]);
  }
  return p;
}

// The hook this run of the suite attaches tvf0's egress on
// (TVF_IT_DATAPATH=kernel/clsact): tcx on this kernel unless clsact is
// asked for. The backends' ingress is on clsact either way.
TcHookChoice hookChoice() {
  const std::string m = tcHookMode();
  return m == "clsact" ? TcHookChoice::Clsact : m == "tcx" ? TcHookChoice::Tcx : TcHookChoice::Auto;
}
TcAttachPoint expectedPoint() {
  return hookChoice() == TcHookChoice::Clsact || !tcxSupported() ? TcAttachPoint::Clsact : TcAttachPoint::Tcx;
}

bool near(std::uint64_t ours, std::uint64_t kernels) {
  const double diff = ours > kernels ? double(ours - kernels) : double(kernels - ours);
  return diff <= 0.01 * double(kernels) + 2;  // 1%, and 2 frames for what was in flight at the snapshots
}

// A packet socket on one device, as tcpdump opens; -1 on failure.
int packetSocket(int ifindex) {
  int ps = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (ps < 0) return -1;
  sockaddr_ll sll = {};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (::bind(ps, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
    ::close(ps);
    return -1;
  }
  return ps;
}

// Reads what a packet socket holds: (outgoing, incoming) frame counts.
std::pair<int, int> countFrames(int ps) {
  int out = 0, in = 0;
  char buf[2048];
  sockaddr_ll from = {};
  socklen_t len = sizeof from;
  while (::recvfrom(ps, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len) > 0) {
    (from.sll_pkttype == PACKET_OUTGOING ? out : in)++;
    len = sizeof from;
  }
  return {out, in};
}

class TcRedirectTest : public TopologyTest {
 protected:
  void SetUp() override {
    TopologyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    topo->addVf("vf0");
    // The claim, by hand: no addresses (the veths have none), IPv6 off, up.
    ASSERT_EQ(topo->inGuest("sysctl -qw net.ipv6.conf.vf0.disable_ipv6=1 && ip link set eth0 up && "
                            "ip link set vf0 up").status, 0);
    ns_ = std::make_unique<NetnsGuard>(topo->guest());
    ASSERT_TRUE(ns_->ok());
    tap_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(tap_, 0);
    ifreq ifr = {};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, "tvf0", IFNAMSIZ - 1);
    ASSERT_EQ(::ioctl(tap_, TUNSETIFF, &ifr), 0) << std::strerror(errno);
    ASSERT_EQ(topo->inGuest(std::string("ip link set tvf0 address ") + kMac +
                            " && sysctl -qw net.ipv6.conf.tvf0.disable_ipv6=1 && "
                            "ip addr add 198.18.0.2/24 dev tvf0 && ip link set tvf0 up").status, 0);
    tvf0_ = static_cast<int>(if_nametoindex("tvf0"));
    eth0_ = static_cast<int>(if_nametoindex("eth0"));
    vf0_ = static_cast<int>(if_nametoindex("vf0"));
    ASSERT_GT(tvf0_, 0);
    ASSERT_GT(eth0_, 0);
    ASSERT_GT(vf0_, 0);
  }
  void TearDown() override {
    if (tap_ >= 0) ::close(tap_);
    tap_ = -1;
    redirect_.reset();
    ns_.reset();
    TopologyTest::TearDown();
  }

  // Loads the programs, configures them for kernel mode on the synthetic
  // and attaches them everywhere.
  void loadAndAttach(const std::vector<int>& adoptFrom = {}, TcHookChoice hook = hookChoice()) {
    auto r = TcRedirect::load("tvf0", adoptFrom, hook);
    ASSERT_TRUE(r) << r.error().describe();
    redirect_ = std::move(r).value();
    configure(RedirectSlot::Synthetic);
    attachAll();
  }
  void configure(RedirectSlot active) {
    ASSERT_TRUE(redirect_->setTap(tvf0_));
    ASSERT_TRUE(redirect_->setBackend(RedirectSlot::Synthetic, eth0_));
    ASSERT_TRUE(redirect_->setBackend(RedirectSlot::Vf, vf0_));
    ASSERT_TRUE(redirect_->setActive(active));
    ASSERT_TRUE(redirect_->setMode(RedirectMode::Kernel));
  }
  void attachAll() {
    for (int b : {eth0_, vf0_}) {
      auto st = redirect_->attachIngress(b);
      ASSERT_TRUE(st) << st.error().describe();
    }
    auto st = redirect_->attachEgress(tvf0_);
    ASSERT_TRUE(st) << st.error().describe();
  }
  SlotCounters counters(RedirectSlot s) const {
    auto c = redirect_->readCounters(s);
    EXPECT_TRUE(c) << c.error().describe();
    return c ? *c : SlotCounters{};
  }
  PingResult ping(const std::string& args) const {
    auto r = topo->inGuest("ping -n -q " + args + " 198.18.0.1");
    return parsePing(r.out);
  }

  // Paced UDP both ways (tvf-udpstream) at `pps` for `secs`; `during` runs
  // meanwhile. Returns each receiver's JSON summary (null when it printed none).
  struct Streams {
    nlohmann::json toHost, toGuest;
  };
  Streams udpStreams(long pps, double secs, const std::function<void()>& during) {
    const std::string tool = UDPSTREAM_PATH;
    const std::string recvSecs = std::to_string(secs + 2.0);
    CommandResult rh, rg;
    std::thread recvHost([&] { rh = topo->inHost(tool + " recv 198.18.0.1 6000 " + recvSecs); });
    std::thread recvGuest([&] { rg = topo->inGuest(tool + " recv 198.18.0.2 6001 " + recvSecs); });
    EXPECT_TRUE(Topology::waitFor(
        [&] {
          return topo->inHost("ss -Hlun sport = :6000").out.find("6000") != std::string::npos &&
                 topo->inGuest("ss -Hlun sport = :6001").out.find("6001") != std::string::npos;
        },
        std::chrono::seconds(10)));
    // (Appended piecewise: GCC 12's -Wrestrict misfires on " " + std::to_string().)
    std::string args = " ";
    args += std::to_string(pps);
    args += ' ';
    args += std::to_string(secs);
    std::thread sendGuest([&] { topo->inGuest(tool + " send 198.18.0.1 6000" + args); });
    std::thread sendHost([&] { topo->inHost(tool + " send 198.18.0.2 6001" + args); });
    during();
    sendGuest.join();
    sendHost.join();
    recvHost.join();
    recvGuest.join();
    auto last = [](const std::string& out) {
      auto pos = out.rfind('{');
      auto j = pos == std::string::npos ? nlohmann::json() : nlohmann::json::parse(out.substr(pos), nullptr, false);
      return j.is_discarded() ? nlohmann::json() : j;
    };
    return {last(rh.out), last(rg.out)};
  }

  std::unique_ptr<NetnsGuard> ns_;
  int tap_ = -1;
  int tvf0_ = 0, eth0_ = 0, vf0_ = 0;
  TcRedirectPtr redirect_;
};

TEST_F(TcRedirectTest, PingRunsThroughTheActiveSlotAndTheCountersMatchTheBackends) {
  struct Snap {
    std::uint64_t txp, txb, rxp, rxb;
  };
  auto snap = [&](const std::string& dev) {
    return Snap{sysfsCounter(*topo, dev, "tx_packets"), sysfsCounter(*topo, dev, "tx_bytes"),
                sysfsCounter(*topo, dev, "rx_packets"), sysfsCounter(*topo, dev, "rx_bytes")};
  };
  const Snap eth0Before = snap("eth0"), vf0Before = snap("vf0");
  loadAndAttach();
  EXPECT_FALSE(redirect_->adopted());

  // Through the synthetic.
  auto p = ping("-c 400 -i 0.002 -W 2");
  EXPECT_EQ(p.sent, 400);
  EXPECT_GE(p.received, 396);
  auto syn = counters(RedirectSlot::Synthetic);
  EXPECT_GE(syn.tx.packets, 400u);
  EXPECT_GE(syn.rx.packets, 396u);
  EXPECT_EQ(counters(RedirectSlot::Vf).tx.packets, 0u);

  // Through the VF after one map write.
  ASSERT_TRUE(redirect_->setActive(RedirectSlot::Vf));
  p = ping("-c 400 -i 0.002 -W 2");
  EXPECT_EQ(p.sent, 400);
  EXPECT_GE(p.received, 396);
  auto vf = counters(RedirectSlot::Vf);
  EXPECT_GE(vf.tx.packets, 400u);
  EXPECT_GE(vf.rx.packets, 396u);  // the bridge learnt the MAC on the VF's port
  EXPECT_EQ(vf.tx.fallbacks, 0u);
  EXPECT_EQ(vf.tx.drops + vf.rx.drops, 0u);

  // The programs count what the backends' own counters count.
  syn = counters(RedirectSlot::Synthetic);
  const Snap eth0After = snap("eth0"), vf0After = snap("vf0");
  EXPECT_PRED2(near, syn.tx.packets, eth0After.txp - eth0Before.txp);
  EXPECT_PRED2(near, syn.tx.bytes, eth0After.txb - eth0Before.txb);
  EXPECT_PRED2(near, syn.rx.packets, eth0After.rxp - eth0Before.rxp);
  EXPECT_PRED2(near, syn.rx.bytes, eth0After.rxb - eth0Before.rxb);
  EXPECT_PRED2(near, vf.tx.packets, vf0After.txp - vf0Before.txp);
  EXPECT_PRED2(near, vf.tx.bytes, vf0After.txb - vf0Before.txb);
  EXPECT_PRED2(near, vf.rx.packets, vf0After.rxp - vf0Before.rxp);
  EXPECT_PRED2(near, vf.rx.bytes, vf0After.rxb - vf0Before.rxb);
  std::fprintf(stderr,
               "synthetic tx %lu pkts %lu B (eth0 sysfs %lu, %lu), rx %lu pkts %lu B (%lu, %lu); "
               "vf tx %lu pkts %lu B (vf0 sysfs %lu, %lu), rx %lu pkts %lu B (%lu, %lu)\n",
               syn.tx.packets, syn.tx.bytes, eth0After.txp - eth0Before.txp, eth0After.txb - eth0Before.txb,
               syn.rx.packets, syn.rx.bytes, eth0After.rxp - eth0Before.rxp, eth0After.rxb - eth0Before.rxb,
               vf.tx.packets, vf.tx.bytes, vf0After.txp - vf0Before.txp, vf0After.txb - vf0Before.txb,
               vf.rx.packets, vf.rx.bytes, vf0After.rxp - vf0Before.rxp, vf0After.rxb - vf0Before.rxb);
  // Redirected traffic never reaches the TAP: nothing to read on its fd.
  char buf[2048];
  EXPECT_LT(::read(tap_, buf, sizeof buf), 0);
}

TEST_F(TcRedirectTest, SurpriseRemovalOfTheVfFallsBackInTheKernel) {
  loadAndAttach();
  ASSERT_TRUE(redirect_->setActive(RedirectSlot::Vf));
  ASSERT_GE(ping("-c 5 -i 0.01 -W 2").received, 4);  // ARP settled, bridge learnt the VF port
  // A ping flood (1000/s for 3 s); the VF vanishes a second in.
  PingResult flood;
  std::thread pinger([&] { flood = ping("-c 3000 -i 0.001 -W 2"); });
  ASSERT_TRUE(Topology::waitFor([&] { return counters(RedirectSlot::Vf).tx.packets > 1000; },
                                std::chrono::seconds(20)));
  topo->delVf("vf0");
  pinger.join();
  // The kernel cleared the DEVMAP entry by itself; nobody told the program.
  auto entry = redirect_->backend(RedirectSlot::Vf);
  ASSERT_TRUE(entry);
  EXPECT_EQ(*entry, 0);
  const auto vf = counters(RedirectSlot::Vf), syn = counters(RedirectSlot::Synthetic);
  std::fprintf(stderr, "surprise removal: %d/%d pings answered, %lu frames fell back in the kernel\n",
               flood.received, flood.sent, vf.tx.fallbacks);
  EXPECT_GT(vf.tx.fallbacks, 500u);  // ~2 s of the flood after the removal
  EXPECT_EQ(syn.tx.packets, vf.tx.fallbacks);
  EXPECT_EQ(vf.tx.drops, 0u);
  EXPECT_EQ(flood.sent, 3000);
  EXPECT_GE(flood.received, 2970) << "pings must continue through the synthetic";
  // The configuration still says VF: the fallback happened in the kernel.
  auto cfg = redirect_->config();
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->active, RedirectSlot::Vf);
}

TEST_F(TcRedirectTest, ARestartAdoptsTheRunningProgramsWithoutLoss) {
  loadAndAttach();
  ASSERT_TRUE(redirect_->setActive(RedirectSlot::Vf));
  ASSERT_GE(ping("-c 20 -i 0.01 -W 2").received, 19);
  const auto before = counters(RedirectSlot::Vf);
  const auto egressBefore = TcRedirect::attachedProgram(tvf0_, TcHook::Egress);
  ASSERT_NE(egressBefore.id, 0u);
  EXPECT_EQ(egressBefore.point, expectedPoint());
  EXPECT_EQ(redirect_->attachPoint(), expectedPoint());

  const long pps = 10000;
  const double secs = 4;
  auto s = udpStreams(pps, secs, [&] {
    ASSERT_TRUE(Topology::waitFor([&] { return counters(RedirectSlot::Vf).tx.packets > before.tx.packets + 2000; },
                                  std::chrono::seconds(10)));
    // "kill -9": every fd of the loader closes, nothing is detached, and
    // the datapath runs owner-less: the VF's own counter keeps rising.
    const std::uint64_t vfTx = sysfsCounter(*topo, "vf0", "tx_packets");
    const auto atKill = counters(RedirectSlot::Vf);
    redirect_.reset();
    ASSERT_TRUE(Topology::waitFor([&] { return sysfsCounter(*topo, "vf0", "tx_packets") > vfTx + 2000; },
                                  std::chrono::seconds(10)));
    // The restart: adopt what the filters hold, write the configuration
    // again, attach (each attach replaces the old program in place).
    auto r = TcRedirect::load("tvf0", {tvf0_, eth0_, vf0_}, hookChoice());
    ASSERT_TRUE(r) << r.error().describe();
    redirect_ = std::move(r).value();
    EXPECT_TRUE(redirect_->adopted());
    auto cfg = redirect_->config();
    ASSERT_TRUE(cfg);
    EXPECT_EQ(cfg->mode, RedirectMode::Kernel);
    EXPECT_EQ(cfg->active, RedirectSlot::Vf);
    EXPECT_EQ(cfg->tapIfindex, tvf0_);
    // vf0's sysfs count (waited on above) also holds frames the program
    // did not send (ARP, the bridge's own), so only most of the 2000.
    EXPECT_GE(counters(RedirectSlot::Vf).tx.packets, atKill.tx.packets + 1000)
        << "the counters carried over, with what the orphaned programs forwarded";
    configure(RedirectSlot::Vf);
    attachAll();
  });
  std::fprintf(stderr, "restart under %ld pps each way: to host %s; to guest %s\n", pps, s.toHost.dump().c_str(),
               s.toGuest.dump().c_str());
  for (const auto* j : {&s.toHost, &s.toGuest}) {
    ASSERT_FALSE(j->is_null());
    EXPECT_EQ((*j)["lost"], 0);
    EXPECT_EQ((*j)["received"], static_cast<long>(pps * secs));
  }
  const auto after = counters(RedirectSlot::Vf);
  EXPECT_GE(after.tx.packets, before.tx.packets + static_cast<std::uint64_t>(pps * secs));
  EXPECT_GE(after.rx.packets, before.rx.packets + static_cast<std::uint64_t>(pps * secs));
  const auto egressAfter = TcRedirect::attachedProgram(tvf0_, TcHook::Egress);
  EXPECT_NE(egressAfter.id, 0u);
  EXPECT_NE(egressAfter.id, egressBefore.id) << "a new program (new id) sits in the same place";
  EXPECT_EQ(egressAfter.point, expectedPoint());
}

// A restart onto the other kind of hook for tvf0's egress (tc_hook
// changed, or a kernel upgrade made tcx available): the new program goes on
// the new hook, then the old one leaves the other, under a UDP stream each
// way: nothing lost, nothing of ours left on the old hook, the counters
// carried over. The backends' ingress stays on clsact throughout.
TEST_F(TcRedirectTest, ARestartOntoTheOtherHookKindLosesNothingAndLeavesNothing) {
  if (!tcxSupported()) GTEST_SKIP() << "this kernel has no tcx hooks";
  if (tcHookMode() == "clsact") GTEST_SKIP() << "names both kinds itself: runs in the default suite only";
  for (const bool toTcx : {true, false}) {
    SCOPED_TRACE(toTcx ? "clsact -> tcx" : "tcx -> clsact");
    loadAndAttach({tvf0_, eth0_, vf0_}, toTcx ? TcHookChoice::Clsact : TcHookChoice::Tcx);
    ASSERT_TRUE(redirect_->setActive(RedirectSlot::Vf));
    ASSERT_GE(ping("-c 10 -i 0.01 -W 2").received, 9);
    const auto from = toTcx ? TcAttachPoint::Clsact : TcAttachPoint::Tcx;
    const auto to = toTcx ? TcAttachPoint::Tcx : TcAttachPoint::Clsact;
    for (int dev : {eth0_, vf0_})
      ASSERT_EQ(TcRedirect::attachedProgram(dev, TcHook::Ingress).point, TcAttachPoint::Clsact);
    ASSERT_EQ(TcRedirect::attachedProgram(tvf0_, TcHook::Egress).point, from);
    const auto before = counters(RedirectSlot::Vf);
    const long pps = 10000;
    const double secs = 3;
    auto s = udpStreams(pps, secs, [&] {
      ASSERT_TRUE(Topology::waitFor([&] { return counters(RedirectSlot::Vf).tx.packets > before.tx.packets + 5000; },
                                    std::chrono::seconds(10)));
      redirect_.reset();  // kill -9
      auto r = TcRedirect::load("tvf0", {tvf0_, eth0_, vf0_}, toTcx ? TcHookChoice::Tcx : TcHookChoice::Clsact);
      ASSERT_TRUE(r) << r.error().describe();
      redirect_ = std::move(r).value();
      EXPECT_TRUE(redirect_->adopted());
      configure(RedirectSlot::Vf);
      attachAll();
    });
    for (const auto* j : {&s.toHost, &s.toGuest}) {
      ASSERT_FALSE(j->is_null());
      EXPECT_EQ((*j)["lost"], 0) << j->dump();
      EXPECT_EQ((*j)["received"], static_cast<long>(pps * secs));
    }
    EXPECT_GE(counters(RedirectSlot::Vf).tx.packets, before.tx.packets + static_cast<std::uint64_t>(pps * secs));
    for (int dev : {eth0_, vf0_})
      EXPECT_EQ(TcRedirect::attachedProgram(dev, TcHook::Ingress).point, TcAttachPoint::Clsact);
    EXPECT_EQ(TcRedirect::attachedProgram(tvf0_, TcHook::Egress).point, to);
    // Nothing of ours on the other kind.
    const std::string egress = topo->guestTcPrograms("tvf0", "egress");
    EXPECT_EQ(contains(egress, "tcx tvf_egress"), toTcx) << egress;
    EXPECT_EQ(contains(egress, "name tvf_egress"), !toTcx) << egress;
    for (const char* dev : {"eth0", "vf0"}) {
      const std::string ingress = topo->guestTcPrograms(dev, "ingress");
      EXPECT_FALSE(contains(ingress, "tcx ")) << dev << ":\n" << ingress;
      EXPECT_TRUE(contains(ingress, "name tvf_ingress")) << dev << ":\n" << ingress;
    }
    // Clean for the next round.
    EXPECT_TRUE(redirect_->detachEgress(tvf0_, ClsactCleanup::Remove));
    EXPECT_TRUE(redirect_->detachIngress(eth0_, ClsactCleanup::Remove));
    EXPECT_TRUE(redirect_->detachIngress(vf0_, ClsactCleanup::Remove));
    redirect_.reset();
  }
}

TEST_F(TcRedirectTest, AVfUnpluggedWhileNoOwnerRunsStillFallsBackUnderAUdpStream) {
  loadAndAttach();
  ASSERT_TRUE(redirect_->setActive(RedirectSlot::Vf));
  ASSERT_GE(ping("-c 20 -i 0.01 -W 2").received, 19);
  redirect_.reset();  // the daemon is gone (kill -9); the programs stay attached
  const long pps = 10000;
  const double secs = 4;
  auto s = udpStreams(pps, secs, [&] {
    const std::uint64_t vfTx = sysfsCounter(*topo, "vf0", "tx_packets");
    ASSERT_TRUE(Topology::waitFor([&] { return sysfsCounter(*topo, "vf0", "tx_packets") > vfTx + 10000; },
                                  std::chrono::seconds(10)));
    topo->delVf("vf0");
  });
  std::fprintf(stderr, "VF unplugged with no owner, %ld pps each way: to host %s; to guest %s\n", pps,
               s.toHost.dump().c_str(), s.toGuest.dump().c_str());
  for (const auto* j : {&s.toHost, &s.toGuest}) {
    ASSERT_FALSE(j->is_null());
    EXPECT_EQ((*j)["expected"], static_cast<long>(pps * secs)) << "the last datagrams arrived";
    EXPECT_LE((*j)["lost"].get<long>(), static_cast<long>(pps * secs / 100)) << "at most 1% lost";
  }
  // A restarted daemon finds the programs, the emptied slot and the fallbacks.
  auto r = TcRedirect::load("tvf0", {tvf0_, eth0_}, hookChoice());
  ASSERT_TRUE(r) << r.error().describe();
  redirect_ = std::move(r).value();
  EXPECT_TRUE(redirect_->adopted());
  auto entry = redirect_->backend(RedirectSlot::Vf);
  ASSERT_TRUE(entry);
  EXPECT_EQ(*entry, 0);
  EXPECT_GT(counters(RedirectSlot::Vf).tx.fallbacks, static_cast<std::uint64_t>(pps));  // > 1 s of the stream
}

TEST_F(TcRedirectTest, MirrorShowsBothDirectionsOnTvf0) {
  loadAndAttach();
  // A packet socket on tvf0, as tcpdump -i tvf0 opens.
  int ps = packetSocket(tvf0_);
  ASSERT_GE(ps, 0);
  auto drain = [&] { return countFrames(ps); };
  auto seen = [&](bool mirror) {
    (void)drain();
    EXPECT_TRUE(redirect_->setMirror(mirror));
    EXPECT_GE(ping("-c 20 -i 0.01 -W 2").received, 19);
    return drain();
  };
  const auto [outOff, inOff] = seen(false);
  EXPECT_EQ(outOff, 0) << "egress redirected at tc never reaches tvf0's taps";
  EXPECT_GE(inOff, 19);
  const auto [outOn, inOn] = seen(true);
  EXPECT_GE(outOn, 20) << "the mirror clone passes tvf0's taps";
  EXPECT_GE(inOn, 19);
  EXPECT_EQ(counters(RedirectSlot::Synthetic).tx.drops, 0u);
  // The clones went on into the TAP, where the daemon would discard them.
  char buf[2048];
  EXPECT_GT(::read(tap_, buf, sizeof buf), 0);
  ::close(ps);
}

TEST_F(TcRedirectTest, UserModePassesEgressToTheTapAndDropsIngress) {
  loadAndAttach();
  ASSERT_GE(ping("-c 5 -i 0.01 -W 2").received, 4);  // kernel mode; the neighbour entry is resolved
  const auto before = counters(RedirectSlot::Synthetic);
  ASSERT_TRUE(redirect_->setMode(RedirectMode::User));
  // Nobody relays the TAP here, so nothing comes back ...
  EXPECT_EQ(ping("-c 5 -i 0.01 -W 1").received, 0);
  // ... and the requests wait on the TAP's fd, where the workers read them.
  int frames = 0;
  char buf[2048];
  while (::read(tap_, buf, sizeof buf) > 0) ++frames;
  EXPECT_GE(frames, 5);
  // Ingress is the claim's drop: the host's pings never show up on tvf0.
  int ps = packetSocket(tvf0_);
  ASSERT_GE(ps, 0);
  EXPECT_EQ(topo->inHost("ping -n -q -c 3 -i 0.01 -W 1 198.18.0.2").status, 1);
  EXPECT_EQ(countFrames(ps).second, 0);
  ::close(ps);
  const auto after = counters(RedirectSlot::Synthetic);
  EXPECT_EQ(after.tx.packets, before.tx.packets) << "user mode counts nothing";
  EXPECT_EQ(after.rx.packets, before.rx.packets);
  // Back to kernel mode: one map write.
  ASSERT_TRUE(redirect_->setMode(RedirectMode::Kernel));
  EXPECT_GE(ping("-c 5 -i 0.01 -W 2").received, 4);
}

TEST_F(TcRedirectTest, WithNoBackendInEitherSlotEgressDropsAndCounts) {
  loadAndAttach();
  ASSERT_GE(ping("-c 5 -i 0.01 -W 2").received, 4);
  ASSERT_TRUE(redirect_->clearBackend(RedirectSlot::Synthetic));
  ASSERT_TRUE(redirect_->clearBackend(RedirectSlot::Vf));
  ASSERT_TRUE(redirect_->clearBackend(RedirectSlot::Vf));  // already clear: still fine
  EXPECT_EQ(ping("-c 10 -i 0.01 -W 1").received, 0);
  const auto syn = counters(RedirectSlot::Synthetic);
  EXPECT_GE(syn.tx.drops, 10u);
  EXPECT_EQ(syn.tx.fallbacks, 0u);
  // Ingress on a backend in no slot still reaches tvf0, counted as "other".
  ASSERT_EQ(topo->inHost("ping -n -q -c 3 -i 0.01 -W 1 198.18.0.2").status, 1);  // replies are dropped
  EXPECT_GE(counters(RedirectSlot::Other).rx.packets, 3u);
  EXPECT_FALSE(redirect_->setBackend(RedirectSlot::Other, eth0_));
  EXPECT_EQ(redirect_->setBackend(RedirectSlot::Vf, 999999).code(), ENXIO);  // no such device
}

TEST_F(TcRedirectTest, DetachLeavesNoClsactOrFilterBehind) {
  // vf0 already has a clsact (as a claim's would be): it stays, our filter goes.
  ASSERT_EQ(topo->inGuest("tc qdisc add dev vf0 clsact").status, 0);
  loadAndAttach();
  ASSERT_GE(ping("-c 5 -i 0.01 -W 2").received, 4);
  // The clsact qdisc was made where missing: on eth0 for its ingress, on
  // tvf0 only when its egress program is not on tcx.
  ASSERT_TRUE(contains(topo->inGuest("tc qdisc show dev eth0").out, "clsact"));
  ASSERT_EQ(contains(topo->inGuest("tc qdisc show dev tvf0").out, "clsact"),
            expectedPoint() == TcAttachPoint::Clsact);
  EXPECT_TRUE(contains(topo->guestTcPrograms("tvf0", "egress"), "tvf_egress"));
  EXPECT_TRUE(contains(topo->guestTcPrograms("vf0", "ingress"), "tvf_ingress"));
  EXPECT_TRUE(TcRedirect::attachedOn(tvf0_, TcHook::Egress));
  EXPECT_TRUE(TcRedirect::attachedOn(vf0_, TcHook::Ingress));
  EXPECT_FALSE(TcRedirect::attachedOn(vf0_, TcHook::Egress));
  EXPECT_TRUE(redirect_->detachEgress(tvf0_));
  EXPECT_TRUE(redirect_->detachIngress(eth0_));
  EXPECT_TRUE(redirect_->detachIngress(vf0_));
  EXPECT_FALSE(TcRedirect::attachedOn(tvf0_, TcHook::Egress));
  EXPECT_FALSE(TcRedirect::attachedOn(vf0_, TcHook::Ingress));
  for (const char* dev : {"tvf0", "eth0"}) {
    EXPECT_EQ(topo->inGuest(std::string("tc qdisc show dev ") + dev).out.find("clsact"), std::string::npos) << dev;
  }
  EXPECT_NE(topo->inGuest("tc qdisc show dev vf0").out.find("clsact"), std::string::npos);
  for (const char* dev : {"tvf0", "eth0", "vf0"})
    for (const char* dir : {"ingress", "egress"}) EXPECT_EQ(topo->guestTcPrograms(dev, dir), "") << dev << " " << dir;
  // Detaching again, or from a vanished device, is no error.
  EXPECT_TRUE(redirect_->detachEgress(tvf0_));
  topo->delVf("vf0");
  EXPECT_TRUE(redirect_->detachIngress(vf0_));
}

}  // namespace
}  // namespace tvf::it
