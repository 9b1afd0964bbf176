// The pair engine against an in-memory kernel, a fake datapath and a fake
// clock: every transition and race of the lifecycle.
#include <gtest/gtest.h>

#include <algorithm>

#include "fakes/FakeClock.hpp"
#include "fakes/FakeDatapath.hpp"
#include "fakes/FakeKernel.hpp"
#include "fakes/FakeLinkEvents.hpp"
#include "failover/Pair.hpp"
#include "failover/PairRouter.hpp"

#include <spdlog/spdlog.h>

namespace tvf {
namespace {

// Keep test output readable: the engine logs every transition.
const int kQuiet = (spdlog::set_level(spdlog::level::off), 0);

using namespace std::chrono_literals;
using testing::FakeAnnouncer;
using testing::FakeClock;
using testing::FakeDatapath;
using testing::FakeKernel;
using testing::FakeLinkEvents;

constexpr int kSynth = 2;
constexpr int kTap = 10;
constexpr int kVf = 5;

Capabilities syntheticCaps() {
  Capabilities c;
  c.offloads = {Offload::TxChecksumIpGeneric, Offload::ScatterGather, Offload::Tso4,
                Offload::Tso6, Offload::TsoEcn, Offload::Gso, Offload::RxChecksum, Offload::Gro};
  c.gsoMaxSize = 65536;
  c.gsoMaxSegs = 65535;
  c.minMtu = 68;
  c.maxMtu = 65521;
  return c;
}

Capabilities vfCaps() {
  Capabilities c;
  c.offloads = {Offload::TxChecksumIpv4, Offload::TxChecksumIpv6, Offload::ScatterGather,
                Offload::Tso4, Offload::Tso6, Offload::Gso, Offload::RxChecksum, Offload::Lro};
  c.gsoMaxSize = 16384;
  c.gsoMaxSegs = 64;
  c.minMtu = 68;
  c.maxMtu = 9000;
  return c;
}

// Records what the pair asks of the path prover; `canProve` is its answer.
struct FakeProver final : PathProver {
  bool startProof(const LinkInfo& vf, std::uint64_t generation) override {
    started.push_back({vf.ifindex, generation});
    proving = canProve;
    return canProve;
  }
  void stopProof() override {
    proving = false;
    ++stops;
  }
  bool canProve = true;
  bool proving = false;
  int stops = 0;
  std::vector<std::pair<int, std::uint64_t>> started;  // (VF ifindex, generation)
};

class PairTest : public ::testing::Test {
 protected:
  void SetUp() override { build(PairConfig{}); }

  void build(PairConfig cfg) {
    if (cfg.name.empty()) cfg.name = "tvf0";
    cfg.synthetic = "eth0";
    router_ = std::make_unique<PairRouter>();
    kernel.links.clear();
    kernel.addLink(kSynth, "eth0", mac, syntheticCaps());
    kernel.tapIndex = kTap;
    tap = LinkInfo{};
    tap.ifindex = kTap;
    tap.ifname = cfg.name;
    tap.mac = mac;
    tap.kind = "tun";
    tap.mtu = 1500;
    tap.up = true;
    pair = std::make_unique<Pair>(cfg, PairDeps{kernel, kernel, dp, clock, bus, prover_});
    ASSERT_TRUE(pair->start(kernel.links[kSynth].info, tap));
    router_->addPair(*pair, mac);
    conn = bus.pairStateChanged.connect(
        [this](const std::string&, PairState from, PairState to) { seen.emplace_back(from, to); });
  }

  // A fresh VF whose carrier comes up after the attach; returns when the
  // pair is Active with TX still on the synthetic and the carrier is up.
  void plugFreshVfAndRaiseCarrier() {
    LinkInfo& vf = kernel.addLink(kVf, "vf0", mac, vfCaps());
    vf.carrier = false;
    events.add(vf);
    elapse(2000ms);
    ASSERT_EQ(pair->state(), PairState::Active);
    LinkInfo up = kernel.links[kVf].info;
    up.carrier = true;
    events.change(up);
  }
  PathProver* prover_ = nullptr;

  LinkInfo plug(int ifindex, const std::string& name, Capabilities caps = vfCaps()) {
    LinkInfo& l = kernel.addLink(ifindex, name, mac, caps);
    events.add(l);
    return l;
  }
  void unplug(int ifindex) {
    kernel.vanish(ifindex);
    events.remove(ifindex);
  }
  // vf0 plugged, its attach failing with `code` as its port opens (the
  // fake keeps failing opens until the test clears dp.failOpen).
  void failTheAttach(int code) {
    dp.failOpen = code;
    plug(kVf, "vf0");
    elapse(2000ms);
    ASSERT_EQ(pair->state(), PairState::Failed);
    ASSERT_EQ(pair->status().attachFailures, 1u);
  }
  void elapse(std::chrono::milliseconds d) {
    clock.advance(d);
    pair->onTick();
  }
  void attach(int ifindex = kVf, const std::string& name = "vf0") {
    plug(ifindex, name);
    elapse(2000ms);
    ASSERT_EQ(pair->state(), PairState::Active);
  }
  // A planned detach, done, and the VF unplugged: the pair is held.
  void detachAndUnplug() {
    attach();
    pair->plannedDetach();
    elapse(200ms);
    finishRetire();
    unplug(kVf);
  }
  void finishRetire() {
    ASSERT_TRUE(dp.retireRequested);
    pair->onVfPortRetired(dp.completeRetire());
  }
  void changeTap(const std::function<void(LinkInfo&)>& f) {
    f(tap);
    events.change(tap);
  }
  std::size_t callIndex(const std::string& call) const {
    auto it = std::find(kernel.calls.begin(), kernel.calls.end(), call);
    return it == kernel.calls.end() ? SIZE_MAX : static_cast<std::size_t>(it - kernel.calls.begin());
  }

  MacAddress mac = *MacAddress::parse("02:00:c6:12:00:02");
  FakeClock clock;
  FakeKernel kernel;
  FakeDatapath dp;
  EventBus bus;
  FakeAnnouncer announcer{bus};
  LinkInfo tap;
  std::unique_ptr<PairRouter> router_;
  FakeLinkEvents events{[this](const LinkEvent& e) { router_->onLinkEvent(e); }};
  std::unique_ptr<Pair> pair;
  std::vector<std::pair<PairState, PairState>> seen;
  boost::signals2::scoped_connection conn;
};

TEST_F(PairTest, StartAppliesSyntheticCapabilitiesAndCarrier) {
  EXPECT_EQ(kernel.tapCaps, syntheticCaps());
  EXPECT_TRUE(kernel.tapCarrier);
  EXPECT_EQ(pair->state(), PairState::NoVf);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
}

TEST_F(PairTest, VfAttachesOnlyAfterAttachWait) {
  plug(kVf, "vf0");
  EXPECT_EQ(pair->state(), PairState::Waiting);
  elapse(1999ms);
  EXPECT_EQ(pair->state(), PairState::Waiting);
  EXPECT_FALSE(kernel.links[kVf].claimed);
  elapse(1ms);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_TRUE(kernel.links[kVf].claimed);
  EXPECT_EQ(dp.tx, PathKind::Vf);
  EXPECT_EQ(kernel.tapCaps, intersect(syntheticCaps(), vfCaps()));
  EXPECT_EQ(kernel.tapCaps.gsoMaxSize, 16384u);
  ASSERT_EQ(announcer.announcements.size(), 1u);
  EXPECT_EQ(announcer.announcements[0].path, PathKind::Vf);
  EXPECT_EQ(announcer.announcements[0].count, 3u);
  ASSERT_EQ(announcer.hooks.size(), 1u);
  EXPECT_EQ(announcer.hooks[0], "tvf0 vf vf0");
  auto s = pair->status();
  EXPECT_EQ(s.switches, 1u);
  ASSERT_TRUE(s.vf);
  EXPECT_EQ(s.vf->ifname, "vf0");
  EXPECT_EQ(s.active, PathKind::Vf);
  EXPECT_EQ(seen, (std::vector<std::pair<PairState, PairState>>{
                      {PairState::NoVf, PairState::Waiting},
                      {PairState::Waiting, PairState::Attaching},
                      {PairState::Attaching, PairState::Active}}));
}

TEST_F(PairTest, TheVfOfThePreviousRunAttachesWithoutAttachWaitOnce) {
  pair->resumeAfterRestart({{kVf, "vf0"}});
  plug(kVf, "vf0");
  elapse(1ms);  // the next tick
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_TRUE(kernel.links[kVf].claimed);
  // Once: the same VF plugged again later is settled like any other.
  unplug(kVf);
  finishRetire();
  ASSERT_EQ(pair->state(), PairState::NoVf);
  plug(kVf, "vf0");
  elapse(1ms);
  EXPECT_EQ(pair->state(), PairState::Waiting);
}

TEST_F(PairTest, AnotherVfThanThePreviousRunsStillWaits) {
  // Another ifindex, and the same ifindex under another name (a new netdev
  // made with the old one's index).
  pair->resumeAfterRestart({{kVf + 1, "vf0"}, {kVf, "vfold"}});
  plug(kVf, "vf0");
  elapse(1ms);
  EXPECT_EQ(pair->state(), PairState::Waiting);
  elapse(1999ms);
  EXPECT_EQ(pair->state(), PairState::Active);
}

TEST_F(PairTest, TheVfOfThePreviousRunIsTakenBackThoughAnotherCameFirst) {
  pair->resumeAfterRestart({{kVf + 1, "vf1"}});
  plug(kVf, "vf0");  // the startup's links come in ifindex order
  EXPECT_EQ(pair->state(), PairState::Waiting);
  plug(kVf + 1, "vf1");
  elapse(1ms);
  EXPECT_EQ(pair->state(), PairState::Active);
  ASSERT_TRUE(pair->vf());
  EXPECT_EQ(pair->vf()->ifname, "vf1");
  EXPECT_FALSE(kernel.links[kVf].claimed);
  EXPECT_EQ(pair->status().candidates, std::vector<std::string>{"vf0"});
}

TEST_F(PairTest, AVfThatStopsMatchingWhileStillHereIsReleased) {
  attach();
  ASSERT_TRUE(kernel.links[kVf].claimed);
  pair->onVfStoppedMatching(kVf);
  EXPECT_EQ(pair->state(), PairState::Detaching);
  EXPECT_FALSE(kernel.links[kVf].claimed);
}

TEST_F(PairTest, AttachOrderIsUpThenPortThenSwitch) {
  plug(kVf, "vf0");
  elapse(2000ms);
  // The VF is claimed before anything else, and brought up last.
  EXPECT_LT(callIndex("claimBackend 5"), callIndex("readCapabilities 5"));
  EXPECT_LT(callIndex("setPromisc 5"), callIndex("setUp 5"));
  EXPECT_EQ(dp.opens, 1);
  EXPECT_EQ(dp.portGeneration, pair->generation());
}

TEST_F(PairTest, SecondVfIsRefusedAndLeftAlone) {
  attach();
  plug(6, "vf1");
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(pair->vf()->ifname, "vf0");
  EXPECT_FALSE(kernel.links[6].claimed);
  EXPECT_EQ(pair->status().refusedVfs, 1u);
}

TEST_F(PairTest, SecondVfIsTakenAfterTheFirstLeaves) {
  attach();
  plug(6, "vf1");
  unplug(kVf);
  finishRetire();
  EXPECT_EQ(pair->state(), PairState::Waiting);
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(pair->vf()->ifname, "vf1");
}

TEST_F(PairTest, VfVanishingWhileWaitingCancelsTheAttach) {
  plug(kVf, "vf0");
  unplug(kVf);
  EXPECT_EQ(pair->state(), PairState::NoVf);
  elapse(5000ms);
  EXPECT_EQ(pair->state(), PairState::NoVf);
  EXPECT_EQ(callIndex("claimBackend 5"), SIZE_MAX);
  EXPECT_EQ(pair->status().illegalTransitions, 0u);
}

TEST_F(PairTest, VfVanishingMidAttachRollsBack) {
  plug(kVf, "vf0");
  kernel.failNext("setUp", kVf, ENODEV);  // the VF leaves between two steps
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::NoVf);
  EXPECT_EQ(kernel.tapCaps, syntheticCaps());
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  EXPECT_FALSE(pair->vf().has_value());
  EXPECT_EQ(pair->status().attachFailures, 0u);
  EXPECT_EQ(callIndex("releaseBackend 5"), SIZE_MAX);  // nothing to release on a gone VF
}

TEST_F(PairTest, FlappingFasterThanAttachWaitAttachesOnlyTheLastVf) {
  plug(kVf, "vf0");
  elapse(1000ms);
  unplug(kVf);
  elapse(500ms);
  plug(6, "vf1");  // re-plugged under a new name and ifindex
  elapse(500ms);   // the first VF's deadline has passed: must not fire
  EXPECT_EQ(pair->state(), PairState::Waiting);
  elapse(1499ms);
  EXPECT_EQ(pair->state(), PairState::Waiting);
  elapse(1ms);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(pair->vf()->ifname, "vf1");
  EXPECT_EQ(pair->generation(), 2u);
}

TEST_F(PairTest, PlannedDetachMovesTxFirstThenDrainsThenRetires) {
  attach();
  announcer.announcements.clear();
  pair->plannedDetach();
  EXPECT_EQ(pair->state(), PairState::Detaching);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  ASSERT_EQ(announcer.announcements.size(), 1u);
  EXPECT_EQ(announcer.announcements[0].path, PathKind::Synthetic);
  EXPECT_FALSE(dp.retireRequested);  // RX still drains
  EXPECT_FALSE(pair->detachComplete());
  elapse(199ms);
  EXPECT_FALSE(dp.retireRequested);
  elapse(1ms);
  EXPECT_TRUE(dp.retireRequested);
  finishRetire();
  EXPECT_EQ(pair->state(), PairState::NoVf);
  EXPECT_TRUE(pair->detachComplete());
  EXPECT_FALSE(kernel.links[kVf].claimed);
  EXPECT_EQ(kernel.tapCaps, syntheticCaps());
  EXPECT_EQ(pair->status().switches, 2u);
}

TEST_F(PairTest, HeldPairIgnoresNewVfUntilAttach) {
  detachAndUnplug();
  plug(7, "vf9");
  elapse(5000ms);
  EXPECT_EQ(pair->state(), PairState::NoVf);
  EXPECT_TRUE(pair->status().held);
  // The status shows the VF that waits for the attach.
  EXPECT_EQ(pair->status().candidates, std::vector<std::string>{"vf9"});
  ASSERT_TRUE(pair->requestAttach(std::nullopt));
  // vf9 has been settling for 5 s, longer than attach_wait: no new wait.
  EXPECT_EQ(pair->state(), PairState::Waiting);
  elapse(0ms);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(pair->vf()->ifname, "vf9");
  EXPECT_TRUE(pair->status().candidates.empty());  // the pair's own VF is no candidate
}

TEST_F(PairTest, StatusSaysTheOffloadsTheOperatorTurnedOffOnTheTap) {
  EXPECT_TRUE(pair->status().operatorOffloadsOff.empty());
  kernel.operatorOff = {"tx-tcp-segmentation", "tx-checksum-ipv4"};
  EXPECT_EQ(pair->status().operatorOffloadsOff, kernel.operatorOff);
}

TEST_F(PairTest, StatusGivesTheGsoLimitsTheTapHasUnderTheOperatorsOwn) {
  const auto paths = pair->status().caps;
  EXPECT_EQ(paths.gsoMaxSize, kernel.tapCaps.gsoMaxSize);
  kernel.gsoWritten = {16384, 32};  // the operator lowered them on the TAP
  EXPECT_EQ(pair->status().caps.gsoMaxSize, 16384u);
  EXPECT_EQ(pair->status().caps.gsoMaxSegs, 32u);
  EXPECT_EQ(pair->status().caps.offloads, paths.offloads);
}

TEST_F(PairTest, AttachSoonAfterThePlugWaitsOnlyTheRestOfAttachWait) {
  detachAndUnplug();
  plug(7, "vf9");
  elapse(500ms);
  ASSERT_TRUE(pair->requestAttach(std::nullopt));
  elapse(1499ms);
  EXPECT_EQ(pair->state(), PairState::Waiting);
  elapse(1ms);
  EXPECT_EQ(pair->state(), PairState::Active);
}

TEST_F(PairTest, ACandidateThatChangedRestartsItsSettling) {
  detachAndUnplug();
  LinkInfo vf = plug(7, "vf9");
  elapse(5000ms);
  vf.ifname = "enP1s7";  // udev renamed it just now
  events.change(vf);
  ASSERT_TRUE(pair->requestAttach(std::nullopt));
  elapse(1999ms);
  EXPECT_EQ(pair->state(), PairState::Waiting);
  elapse(1ms);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(pair->vf()->ifname, "enP1s7");
}

TEST_F(PairTest, AttachWithIfnameForcesOneCandidate) {
  attach();
  pair->plannedDetach();
  elapse(200ms);
  finishRetire();
  plug(8, "vfB");
  EXPECT_FALSE(pair->requestAttach(std::string("nope")));
  EXPECT_FALSE(pair->status().attachOnly.has_value());
  ASSERT_TRUE(pair->requestAttach(std::string("vfB")));
  EXPECT_EQ(pair->status().attachOnly, std::optional<std::string>("vfB"));  // the status says why others wait
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(pair->vf()->ifname, "vfB");
  ASSERT_TRUE(pair->requestAttach(std::nullopt));  // lifts the name
  EXPECT_FALSE(pair->status().attachOnly.has_value());
}

// Naming another VF while one is active would pin a name the pair does not
// switch to: refused with EBUSY, the pin and the VF unchanged.
TEST_F(PairTest, AttachNamingAnotherVfWhileActiveIsRefused) {
  attach();
  plug(8, "vfB");
  const auto st = pair->requestAttach(std::string("vfB"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, EBUSY);
  EXPECT_NE(st.error().what.find("tvfctl detach"), std::string::npos) << st.error().what;
  EXPECT_FALSE(pair->status().attachOnly.has_value());
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(pair->vf()->ifindex, kVf);
  EXPECT_TRUE(pair->requestAttach(pair->vf()->ifname));  // naming the VF it runs on is fine
}

TEST_F(PairTest, SurpriseRemovalFallsBackAndRetires) {
  attach();
  unplug(kVf);
  EXPECT_EQ(pair->state(), PairState::Detaching);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  EXPECT_TRUE(dp.retireRequested);  // no drain on a gone VF
  finishRetire();
  EXPECT_EQ(pair->state(), PairState::NoVf);
  EXPECT_EQ(callIndex("releaseBackend 5"), SIZE_MAX);
  EXPECT_EQ(kernel.tapCaps, syntheticCaps());
  EXPECT_FALSE(pair->status().vf.has_value());
}

TEST_F(PairTest, VfLeavingDuringDrainSkipsTheRest) {
  attach();
  pair->plannedDetach();
  unplug(kVf);
  EXPECT_TRUE(dp.retireRequested);
  finishRetire();
  EXPECT_EQ(pair->state(), PairState::NoVf);
  elapse(500ms);  // the cancelled drain deadline never fires
  EXPECT_EQ(pair->status().illegalTransitions, 0u);
}

TEST_F(PairTest, PortErrorDetachesAndStaleErrorsAreDropped) {
  attach();
  const auto gen = pair->generation();
  pair->onPortError(gen - 1, ENXIO);
  EXPECT_EQ(pair->state(), PairState::Active);
  pair->onPortError(gen, ENXIO);
  EXPECT_EQ(pair->state(), PairState::Detaching);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  pair->onPortError(gen, ENXIO);  // repeated: harmless
  finishRetire();
  EXPECT_FALSE(kernel.links[kVf].claimed);
  // The VF netdev is still there: it is offered again after attach_wait.
  EXPECT_EQ(pair->state(), PairState::Waiting);
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(pair->generation(), gen + 1);
}

TEST_F(PairTest, NetdownPortErrorOnlyMovesTx) {
  attach();
  pair->onPortError(pair->generation(), ENETDOWN);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
}

TEST_F(PairTest, CarrierLossMovesTxWithoutDetaching) {
  attach();
  LinkInfo vf = kernel.links[kVf].info;
  vf.carrier = false;
  events.change(vf);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  EXPECT_TRUE(kernel.tapCarrier);  // follows the synthetic now
  vf.carrier = true;
  events.change(vf);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);  // carrier_up_delay first
  elapse(1999ms);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  elapse(1ms);
  EXPECT_EQ(dp.tx, PathKind::Vf);
  EXPECT_EQ(pair->status().switches, 3u);
}

TEST_F(PairTest, CarrierFlappingWithinTheUpDelayKeepsTxOnTheSynthetic) {
  attach();
  LinkInfo vf = kernel.links[kVf].info;
  vf.carrier = false;
  events.change(vf);
  vf.carrier = true;
  events.change(vf);
  elapse(1000ms);
  vf.carrier = false;
  events.change(vf);
  elapse(1500ms);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  vf.carrier = true;
  events.change(vf);
  elapse(2000ms);
  EXPECT_EQ(dp.tx, PathKind::Vf);
  EXPECT_EQ(pair->status().switches, 3u);
}

TEST_F(PairTest, FirstCarrierAfterAttachWaitsOnlyTheTakeoverDelay) {
  LinkInfo& vf = kernel.addLink(kVf, "vf0", mac, vfCaps());
  vf.carrier = false;  // a fresh VF: its link comes up after tvf brings it up
  events.add(vf);
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  LinkInfo up = kernel.links[kVf].info;
  up.carrier = true;
  events.change(up);
  elapse(99ms);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  elapse(1ms);  // the takeover delay, not carrier_up_delay
  EXPECT_EQ(dp.tx, PathKind::Vf);
}

// The switch port behind a fresh VF may not forward yet when the VF's own
// carrier is up: TX waits for a neighbour's answer through the VF.
TEST_F(PairTest, FreshVfGetsTxOnceThePathBehindItIsProven) {
  FakeProver prover;
  prover_ = &prover;
  build(PairConfig{});
  plugFreshVfAndRaiseCarrier();
  ASSERT_EQ(prover.started.size(), 1u);
  EXPECT_EQ(prover.started[0].first, kVf);
  elapse(500ms);  // far past the 100 ms takeover delay: still waiting
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  pair->onPathProven(prover.started[0].second);
  EXPECT_EQ(dp.tx, PathKind::Vf);
  EXPECT_FALSE(prover.proving);
}

// A VF that already has carrier when it attaches is proven the same way.
TEST_F(PairTest, AVfWithCarrierAtAttachGetsTxOnceProven) {
  FakeProver prover;
  prover_ = &prover;
  build(PairConfig{});
  plug(kVf, "vf0");  // carrier up from the start
  elapse(2000ms);
  ASSERT_EQ(pair->state(), PairState::Active);
  ASSERT_EQ(prover.started.size(), 1u);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  pair->onPathProven(prover.started[0].second);
  EXPECT_EQ(dp.tx, PathKind::Vf);
}

TEST_F(PairTest, AVfWithCarrierAtAttachAndNothingToProveWithGetsTxAtOnce) {
  FakeProver prover;
  prover.canProve = false;
  prover_ = &prover;
  build(PairConfig{});
  plug(kVf, "vf0");
  elapse(2000ms);
  ASSERT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(dp.tx, PathKind::Vf);
}

TEST_F(PairTest, WithoutAProofTxMovesAtTheLimit) {
  FakeProver prover;
  prover_ = &prover;
  build(PairConfig{});
  plugFreshVfAndRaiseCarrier();
  elapse(999ms);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  elapse(1ms);
  EXPECT_EQ(dp.tx, PathKind::Vf);
  EXPECT_FALSE(prover.proving);
}

TEST_F(PairTest, NothingToProveWithFallsBackToTheTakeoverDelay) {
  FakeProver prover;
  prover.canProve = false;
  prover_ = &prover;
  build(PairConfig{});
  plugFreshVfAndRaiseCarrier();
  ASSERT_EQ(prover.started.size(), 1u);
  elapse(99ms);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  elapse(1ms);
  EXPECT_EQ(dp.tx, PathKind::Vf);
}

TEST_F(PairTest, AProofOfAnEarlierVfOrAfterTheVfLeftMovesNothing) {
  FakeProver prover;
  prover_ = &prover;
  build(PairConfig{});
  plugFreshVfAndRaiseCarrier();
  ASSERT_EQ(prover.started.size(), 1u);
  const auto gen = prover.started[0].second;
  pair->onPathProven(gen + 1);  // not this VF's generation
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  EXPECT_TRUE(prover.proving);
  // Carrier lost while proving: the proof stops, a late answer moves nothing.
  LinkInfo down = kernel.links[kVf].info;
  down.carrier = false;
  events.change(down);
  EXPECT_FALSE(prover.proving);
  pair->onPathProven(gen);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
}

TEST_F(PairTest, TapCarrierFollowsTheActivePath) {
  LinkInfo synth = kernel.links[kSynth].info;
  synth.carrier = false;
  events.change(synth);
  EXPECT_FALSE(kernel.tapCarrier);
  attach();
  EXPECT_TRUE(kernel.tapCarrier);  // the VF has carrier
}

TEST_F(PairTest, CountersNeverGoBackwardsAcrossDetach) {
  attach();
  dp.vfLive.rxPackets = 10;
  dp.vfLive.txBytes = 1000;
  EXPECT_EQ(pair->status().vfCounters.rxPackets, 10u);
  unplug(kVf);
  dp.vfLive.rxPackets = 12;  // a few more before the workers quiesced
  finishRetire();
  EXPECT_EQ(pair->status().vfCounters.rxPackets, 12u);
  attach(6, "vf1");
  dp.vfLive.rxPackets = 5;
  EXPECT_EQ(pair->status().vfCounters.rxPackets, 17u);
  EXPECT_EQ(pair->status().vfCounters.txBytes, 1000u);
}

TEST_F(PairTest, MtuGoesToVfFirstThenSynthetic) {
  attach();
  kernel.calls.clear();
  changeTap([](LinkInfo& t) { t.mtu = 9000; });
  EXPECT_EQ(kernel.links[kVf].info.mtu, 9000u);
  EXPECT_EQ(kernel.links[kSynth].info.mtu, 9000u);
  EXPECT_LT(callIndex("setMtu 5"), callIndex("setMtu 2"));
  EXPECT_EQ(pair->status().mtu, 9000u);
}

TEST_F(PairTest, MtuRefusedByVfRollsTheTapBack) {
  attach();
  changeTap([](LinkInfo& t) { t.mtu = 9500; });  // above the VF's max_mtu 9000
  EXPECT_EQ(kernel.tapMtu, 1500u);
  EXPECT_EQ(kernel.links[kSynth].info.mtu, 1500u);  // never touched
  EXPECT_EQ(kernel.links[kVf].info.mtu, 1500u);
  auto s = pair->status();
  EXPECT_EQ(s.controlOpRollbacks, 1u);
  EXPECT_NE(s.lastError.find("mtu refused by vf0"), std::string::npos) << s.lastError;
}

TEST_F(PairTest, MtuRefusedBySyntheticRollsTheVfBack) {
  attach();
  kernel.failNext("setMtu", kSynth, EINVAL);
  changeTap([](LinkInfo& t) { t.mtu = 4000; });
  EXPECT_EQ(kernel.links[kVf].info.mtu, 1500u);
  EXPECT_EQ(kernel.tapMtu, 1500u);
  EXPECT_EQ(pair->status().controlOpRollbacks, 1u);
}

TEST_F(PairTest, FlagsAreMirroredToBothBackends) {
  attach();
  changeTap([](LinkInfo& t) { t.promisc = true; });
  EXPECT_TRUE(kernel.links[kVf].info.promisc);
  EXPECT_TRUE(kernel.links[kSynth].info.promisc);
  changeTap([](LinkInfo& t) { t.allmulti = true; });
  EXPECT_TRUE(kernel.links[kVf].info.allmulti);
  EXPECT_TRUE(kernel.links[kSynth].info.allmulti);
  changeTap([](LinkInfo& t) {
    t.promisc = false;
    t.up = false;
  });
  EXPECT_FALSE(kernel.links[kVf].info.promisc);
  EXPECT_FALSE(kernel.links[kVf].info.up);
  EXPECT_FALSE(kernel.links[kSynth].info.up);
  changeTap([](LinkInfo& t) { t.up = true; });
  EXPECT_TRUE(kernel.links[kVf].info.up);
}

TEST_F(PairTest, APromiscuityCounterOnTheTapReachesBothBackendsAndANewVf) {
  changeTap([](LinkInfo& t) { t.promiscuity = 1; });  // tcpdump -i tvf0
  EXPECT_TRUE(kernel.links[kSynth].info.promisc);
  attach();
  EXPECT_TRUE(kernel.links[kVf].info.promisc);
  changeTap([](LinkInfo& t) { t.promiscuity = 0; });
  EXPECT_FALSE(kernel.links[kVf].info.promisc);
  EXPECT_FALSE(kernel.links[kSynth].info.promisc);
}

TEST_F(PairTest, AMacChangeOnTheTapIsRefusedWithTheReasonInTheStatus) {
  attach();
  kernel.tapMac = *MacAddress::parse("02:00:c6:12:00:99");
  changeTap([](LinkInfo& t) { t.mac = *MacAddress::parse("02:00:c6:12:00:99"); });
  EXPECT_EQ(kernel.tapMac, mac);
  EXPECT_NE(pair->status().lastError.find("02:00:c6:12:00:99"), std::string::npos) << pair->status().lastError;
  EXPECT_EQ(pair->status().controlOpRollbacks, 1u);
  EXPECT_EQ(dp.tx, PathKind::Vf);
}

TEST_F(PairTest, AVfMtuChangedBehindTvfsBackIsPutBack) {
  attach();
  changeTap([](LinkInfo& t) { t.mtu = 9000; });
  ASSERT_EQ(kernel.links[kVf].info.mtu, 9000u);
  LinkInfo vf = kernel.links[kVf].info;
  vf.mtu = 1500;  // ip link set vf0 mtu 1500
  kernel.links[kVf].info.mtu = 1500;
  events.change(vf);
  EXPECT_EQ(kernel.links[kVf].info.mtu, 9000u);
  EXPECT_EQ(dp.tx, PathKind::Vf);
  EXPECT_EQ(pair->status().lastError, "");
}

TEST_F(PairTest, AVfThatRefusesTheTapsMtuLosesTxWithTheReasonUntilItTakesItAgain) {
  attach();
  changeTap([](LinkInfo& t) { t.mtu = 9000; });
  LinkInfo vf = kernel.links[kVf].info;
  vf.mtu = 1500;
  kernel.links[kVf].info.mtu = 1500;
  kernel.failAlways("setMtu", kVf, ERANGE);
  events.change(vf);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  EXPECT_NE(pair->status().lastError.find("vf0 changed behind tvf's back (mtu 1500)"), std::string::npos)
      << pair->status().lastError;
  // Someone gives it the TAP's MTU again: TX comes back after the up-delay.
  vf.mtu = 9000;
  kernel.links[kVf].info.mtu = 9000;
  events.change(vf);
  elapse(2000ms);
  EXPECT_EQ(dp.tx, PathKind::Vf);
}

TEST_F(PairTest, TheSyntheticsMtuAndFlagsAreKeptToo) {
  LinkInfo syn = kernel.links[kSynth].info;
  syn.mtu = 1400;
  syn.promisc = true;
  syn.up = false;
  kernel.links[kSynth].info = syn;
  events.change(syn);
  EXPECT_EQ(kernel.links[kSynth].info.mtu, 1500u);
  EXPECT_FALSE(kernel.links[kSynth].info.promisc);
  EXPECT_TRUE(kernel.links[kSynth].info.up);
}

TEST_F(PairTest, AVfSetDownBehindTvfsBackIsBroughtBackUp) {
  attach();
  LinkInfo vf = kernel.links[kVf].info;
  vf.up = false;
  vf.carrier = false;
  kernel.links[kVf].info.up = false;
  events.change(vf);
  EXPECT_TRUE(kernel.links[kVf].info.up);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);  // until its carrier is back
  vf.up = true;
  vf.carrier = true;
  events.change(vf);
  elapse(2000ms);
  EXPECT_EQ(dp.tx, PathKind::Vf);
}

TEST_F(PairTest, PromiscRefusedRollsBack) {
  attach();
  kernel.failNext("setPromisc", kSynth, EPERM);
  changeTap([](LinkInfo& t) { t.promisc = true; });
  EXPECT_FALSE(kernel.links[kVf].info.promisc);
  EXPECT_EQ(pair->status().controlOpRollbacks, 1u);
}

TEST_F(PairTest, UpRefusedIsCounted) {
  kernel.failNext("setUp", kSynth, EPERM);
  changeTap([](LinkInfo& t) { t.up = false; });
  EXPECT_EQ(pair->status().controlOpRollbacks, 1u);
}

TEST_F(PairTest, FlagsAreReplayedOntoANewVf) {
  changeTap([](LinkInfo& t) {
    t.promisc = true;
    t.mtu = 4000;
  });
  pair->onTapMulticast({*MacAddress::parse("33:33:ff:00:00:01")});
  attach();
  EXPECT_TRUE(kernel.links[kVf].info.promisc);
  EXPECT_EQ(kernel.links[kVf].info.mtu, 4000u);
  ASSERT_EQ(kernel.links[kVf].multicast.size(), 1u);
  pair->onTapMulticast({});
  EXPECT_TRUE(kernel.links[kVf].multicast.empty());
}

TEST_F(PairTest, MulticastFailureIsLoggedNotFatal) {
  attach();
  kernel.failNext("setMulticast", kVf, ENOSPC);
  pair->onTapMulticast({*MacAddress::parse("01:00:5e:00:00:fb")});
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(kernel.links[kSynth].multicast.size(), 1u);
}

TEST_F(PairTest, MtuPolicyRefuseFailsTheAttach) {
  Capabilities small = vfCaps();
  small.maxMtu = 1400;
  plug(kVf, "vf0", small);
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Failed);
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  EXPECT_FALSE(kernel.links[kVf].claimed);
  EXPECT_EQ(kernel.tapCaps, syntheticCaps());
  auto s = pair->status();
  EXPECT_EQ(s.attachFailures, 1u);
  EXPECT_NE(s.lastError.find("cannot take mtu 1500"), std::string::npos) << s.lastError;
  // A retry is possible on request; the VF leaving resets the pair.
  ASSERT_TRUE(pair->requestAttach(std::nullopt));
  EXPECT_EQ(pair->state(), PairState::Waiting);
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Failed);
  unplug(kVf);
  EXPECT_EQ(pair->state(), PairState::NoVf);
}

TEST_F(PairTest, MtuPolicyClampLowersTheTapAndRestoresIt) {
  PairConfig cfg;
  cfg.vfMtuPolicy = VfMtuPolicy::Clamp;
  build(cfg);
  Capabilities small = vfCaps();
  small.maxMtu = 1400;
  plug(kVf, "vf0", small);
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(kernel.tapMtu, 1400u);
  EXPECT_EQ(kernel.links[kVf].info.mtu, 1400u);
  EXPECT_EQ(kernel.links[kSynth].info.mtu, 1400u);
  unplug(kVf);
  finishRetire();
  EXPECT_EQ(kernel.tapMtu, 1500u);
  EXPECT_EQ(kernel.links[kSynth].info.mtu, 1500u);
}

TEST_F(PairTest, ClampFailureRollsBack) {
  PairConfig cfg;
  cfg.vfMtuPolicy = VfMtuPolicy::Clamp;
  build(cfg);
  Capabilities small = vfCaps();
  small.maxMtu = 1400;
  plug(kVf, "vf0", small);
  kernel.failNext("setUp", kVf, EIO);
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Failed);
  EXPECT_EQ(kernel.tapMtu, 1500u);
}

// Out of descriptors (or memory): the VF is fine, so the pair tries again
// by itself, after 1 s, then 2 s, ...; a success resets the pause.
TEST_F(PairTest, AnAttachThatFailedForWantOfAResourceIsTriedAgain) {
  ASSERT_NO_FATAL_FAILURE(failTheAttach(EMFILE));
  elapse(1100ms);  // the retry fails again: the next pause is 2 s
  EXPECT_EQ(pair->state(), PairState::Failed);
  EXPECT_EQ(pair->status().attachFailures, 2u);
  dp.failOpen = 0;
  elapse(1100ms);
  EXPECT_EQ(pair->state(), PairState::Failed) << "not before its 2 s";
  elapse(1000ms);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_TRUE(kernel.links[kVf].claimed);
}

// Any other failure waits for the VF to leave or for tvfctl attach.
TEST_F(PairTest, AnAttachThatFailedOtherwiseIsNotTriedAgain) {
  ASSERT_NO_FATAL_FAILURE(failTheAttach(EBUSY));
  dp.failOpen = 0;
  elapse(60000ms);
  EXPECT_EQ(pair->state(), PairState::Failed);
  EXPECT_EQ(pair->status().attachFailures, 1u);
}

// Held by a planned detach, a failed pair does not retry: the VF is about
// to go.
TEST_F(PairTest, AHeldPairDoesNotRetryAFailedAttach) {
  ASSERT_NO_FATAL_FAILURE(failTheAttach(ENOMEM));
  pair->plannedDetach();
  dp.failOpen = 0;
  elapse(5000ms);
  EXPECT_EQ(pair->state(), PairState::Failed);
  EXPECT_EQ(pair->status().attachFailures, 1u);
}

TEST_F(PairTest, OpenPortFailureFailsTheAttach) {
  dp.failOpen = EBUSY;
  plug(kVf, "vf0");
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Failed);
  EXPECT_FALSE(kernel.links[kVf].claimed);
}

TEST_F(PairTest, TapCapsFailureFailsTheAttach) {
  plug(kVf, "vf0");
  kernel.failNext("tap.applyCapabilities", 0, EINVAL);
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Failed);
}

TEST_F(PairTest, ClaimRefusalFailsTheAttach) {
  plug(kVf, "vf0");
  kernel.failNext("claimBackend", kVf, EBUSY);
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Failed);
  plug(6, "vf1");  // refused while the failed VF is still there
  EXPECT_EQ(pair->status().refusedVfs, 1u);
  pair->plannedDetach();
  EXPECT_TRUE(pair->status().held);
}

TEST_F(PairTest, VfCapabilityChangeRecomputesTheIntersection) {
  attach();
  kernel.links[kVf].caps.offloads.clear(Offload::Tso4);
  events.change(kernel.links[kVf].info);
  EXPECT_FALSE(kernel.tapCaps.offloads.has(Offload::Tso4));
  EXPECT_TRUE(kernel.tapCaps.offloads.has(Offload::Tso6));
}

TEST_F(PairTest, SyntheticCapabilityChangeWithoutVfIsApplied) {
  kernel.links[kSynth].caps.gsoMaxSize = 32768;
  events.change(kernel.links[kSynth].info);
  EXPECT_EQ(kernel.tapCaps.gsoMaxSize, 32768u);
}

TEST_F(PairTest, VfAlreadyPresentAtStartIsReadopted) {
  // A restarted daemon finds its VF already claimed by the previous run.
  LinkInfo& vf = kernel.addLink(kVf, "vf0", mac, vfCaps());
  kernel.links[kVf].claimed = true;
  events.add(vf);
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Active);
  EXPECT_EQ(dp.tx, PathKind::Vf);
}

TEST_F(PairTest, NonTransparentPairNeverTakesTheVf) {
  PairConfig cfg;
  cfg.transparent = false;
  build(cfg);
  plug(kVf, "vf0");
  elapse(5000ms);
  EXPECT_EQ(pair->state(), PairState::NoVf);
  EXPECT_EQ(callIndex("claimBackend 5"), SIZE_MAX);
  EXPECT_EQ(kernel.tapCaps, syntheticCaps());
  EXPECT_FALSE(pair->requestAttach(std::nullopt));
  unplug(kVf);
  EXPECT_EQ(pair->state(), PairState::NoVf);
}

TEST_F(PairTest, IllegalTransitionIsCountedNotFatal) {
  pair->onVfPortRetired({});  // nothing was retiring
  EXPECT_EQ(pair->state(), PairState::NoVf);
  EXPECT_EQ(pair->status().illegalTransitions, 1u);
}

TEST_F(PairTest, PlannedDetachWhileWaitingHolds) {
  plug(kVf, "vf0");
  pair->plannedDetach();
  EXPECT_EQ(pair->state(), PairState::NoVf);
  elapse(3000ms);
  EXPECT_EQ(pair->state(), PairState::NoVf);
  ASSERT_TRUE(pair->requestAttach(std::nullopt));
  EXPECT_EQ(pair->state(), PairState::Waiting);
}

TEST_F(PairTest, VfNoLongerMatchingIsTreatedAsGone) {
  attach();
  LinkInfo vf = kernel.links[kVf].info;
  vf.masterIndex = 99;  // enslaved to something else
  events.change(vf);
  EXPECT_EQ(pair->state(), PairState::Detaching);
}

TEST_F(PairTest, SyntheticRemovalIsSurvived) {
  events.remove(kSynth);
  EXPECT_EQ(pair->state(), PairState::NoVf);
}

TEST_F(PairTest, ScopedConnectionDisconnects) {
  const auto others = bus.datapathSwitched.num_slots();  // the fixture's announcer subscribes too
  {
    int count = 0;
    boost::signals2::scoped_connection c =
        bus.datapathSwitched.connect([&](const std::string&, PathKind, const std::string&) { ++count; });
    attach();
    EXPECT_EQ(count, 1);
  }
  unplug(kVf);  // would write through a dangling reference if still connected
  EXPECT_EQ(bus.datapathSwitched.num_slots(), others);
}

// Feature negotiation: a VF backend that cannot carry TSO (AF_XDP in copy
// mode, say) clears TSO on the TAP while its VF is attached, although both
// netdevs have TSO; after the detach the synthetic's TSO is back.
TEST_F(PairTest, ABackendWithoutTsoClearsTsoOnTheTapWhileAttached) {
  dp.vfBackend.mechanism = "no-tso";
  dp.vfBackend.offloads.clear(Offload::Tso4);
  dp.vfBackend.offloads.clear(Offload::Tso6);
  attach();
  EXPECT_EQ(dp.probes, 1);
  EXPECT_TRUE(vfCaps().offloads.has(Offload::Tso4));
  EXPECT_FALSE(kernel.tapCaps.offloads.has(Offload::Tso4));
  EXPECT_FALSE(kernel.tapCaps.offloads.has(Offload::Tso6));
  EXPECT_TRUE(kernel.tapCaps.offloads.has(Offload::RxChecksum));  // what it keeps stays
  EXPECT_EQ(pair->status().vf->datapath, "no-tso");
  pair->plannedDetach();
  elapse(200ms);
  finishRetire();
  EXPECT_TRUE(kernel.tapCaps.offloads.has(Offload::Tso4));
  EXPECT_TRUE(kernel.tapCaps.offloads.has(Offload::Tso6));
}

// The backend's limits hold across a capability change of the VF netdev.
TEST_F(PairTest, ABackendsSmallFrameLimitsGsoAcrossVfCapabilityChanges) {
  dp.vfBackend.maxFrame = 9000 + kVnetHdrLen + 14;
  attach();
  EXPECT_EQ(kernel.tapCaps.gsoMaxSize, 9000u);
  kernel.links[kVf].caps.gsoMaxSize = 65536;
  pair->onLinkChanged(kernel.links[kVf].info);
  EXPECT_EQ(kernel.tapCaps.gsoMaxSize, 9000u);
}

// A backend that cannot be had (vf_datapath verbs in a tvfd built without it)
// fails the attach with its reason and leaves the TAP as it was.
TEST_F(PairTest, ABackendThatCannotBeHadFailsTheAttach) {
  dp.failProbe = EOPNOTSUPP;
  plug(kVf, "vf0");
  elapse(2000ms);
  EXPECT_EQ(pair->state(), PairState::Failed);
  EXPECT_EQ(kernel.tapCaps, syntheticCaps());
  EXPECT_EQ(dp.opens, 0);
  EXPECT_NE(pair->status().lastError.find("probe backend"), std::string::npos) << pair->status().lastError;
}

}  // namespace
}  // namespace tvf

namespace tvf {
namespace {

// The switch timeline: a planned migration and a surprise removal, each
// with its reason, its trigger -> TX duration and the frames dropped.
TEST_F(PairTest, TimelineListsAPlannedMigrationAndASurpriseRemoval) {
  plug(kVf, "vf0");
  elapse(2000ms);  // attach_wait: the attach's duration starts at the plug
  ASSERT_EQ(pair->state(), PairState::Active);
  pair->plannedDetach();
  elapse(200ms);
  finishRetire();
  unplug(kVf);
  plug(7, "vf1");
  ASSERT_TRUE(pair->requestAttach(std::nullopt));
  elapse(2000ms);
  ASSERT_EQ(pair->state(), PairState::Active);
  dp.synthLive.txDropped = 3;  // the datapath drops frames around the removal
  unplug(7);
  finishRetire();

  const auto& ev = pair->timeline().events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].reason, SwitchReason::Attach);
  EXPECT_EQ(ev[0].from, PathKind::Synthetic);
  EXPECT_EQ(ev[0].to, PathKind::Vf);
  EXPECT_EQ(ev[0].vfIfname, "vf0");
  EXPECT_EQ(ev[0].triggerToTxUs, 2'000'000);
  EXPECT_EQ(ev[1].reason, SwitchReason::PlannedDetach);
  EXPECT_EQ(ev[1].from, PathKind::Vf);
  EXPECT_EQ(ev[1].to, PathKind::Synthetic);
  EXPECT_EQ(ev[1].triggerToTxUs, 0);  // TX moves first, before the drain
  // tvfctl attach ended the hold and offered vf1: timed from the request.
  EXPECT_EQ(ev[2].reason, SwitchReason::OperatorCommand);
  EXPECT_EQ(ev[2].vfIfname, "vf1");
  EXPECT_EQ(ev[2].triggerToTxUs, 2'000'000);
  EXPECT_EQ(ev[3].reason, SwitchReason::VfVanished);
  EXPECT_EQ(ev[3].vfIfname, "vf1");
  EXPECT_EQ(ev[3].triggerToTxUs, 0);
  for (std::size_t i = 0; i < ev.size(); ++i) EXPECT_EQ(ev[i].seq, i + 1);
  EXPECT_EQ(pair->timeline().countsByReason()[static_cast<std::size_t>(SwitchReason::VfVanished)], 1u);
  EXPECT_EQ(pair->status().switches, 4u);
}

TEST_F(PairTest, TimelineCountsDropsBetweenTriggerAndSwitch) {
  dp.synthLive.rxDropped = 2;  // before the trigger: not this switch's
  plug(kVf, "vf0");
  dp.synthLive.rxDropped = 6;  // during attach_wait
  dp.synthLive.txDropped = 1;
  elapse(2000ms);
  ASSERT_EQ(pair->state(), PairState::Active);
  dp.synthLive.txDropped = 9;  // after the switch: not this switch's either
  ASSERT_EQ(pair->timeline().events().size(), 1u);
  EXPECT_EQ(pair->timeline().events()[0].framesDropped, 5u);
}


TEST_F(PairTest, StartedHeldPairTakesNoVfUntilAttach) {
  // A restart after a planned detach: the hold comes from the daemon's file.
  PairConfig cfg;
  cfg.name = "tvf0";
  cfg.synthetic = "eth0";
  pair = std::make_unique<Pair>(cfg, PairDeps{kernel, kernel, dp, clock, bus});
  pair->startHeld();
  ASSERT_TRUE(pair->start(kernel.links[kSynth].info, tap));
  router_ = std::make_unique<PairRouter>();
  router_->addPair(*pair, mac);
  plug(kVf, "vf0");
  elapse(5000ms);
  EXPECT_EQ(pair->state(), PairState::NoVf);
  EXPECT_TRUE(pair->held());
  EXPECT_EQ(dp.tx, PathKind::Synthetic);
  EXPECT_EQ(dp.probes, 0);
  ASSERT_TRUE(pair->requestAttach(std::nullopt));
  EXPECT_FALSE(pair->held());
  elapse(0ms);
  EXPECT_EQ(pair->state(), PairState::Active);
}

TEST_F(PairTest, ReplacedSyntheticIsTheSyntheticNotAVf) {
  pair->onSyntheticRemoved();
  EXPECT_TRUE(pair->syntheticGone());
  EXPECT_FALSE(kernel.tapCarrier);
  kernel.vanish(kSynth);
  // Re-created with the same MAC and a new ifindex.
  const LinkInfo again = kernel.addLink(3, "eth0", mac, syntheticCaps());
  pair->replaceSynthetic(again);
  EXPECT_FALSE(pair->syntheticGone());
  EXPECT_EQ(pair->syntheticIndex(), 3);
  EXPECT_EQ(pair->status().synthetic.ifindex, 3);
  EXPECT_TRUE(kernel.tapCarrier);
  // Routed as the synthetic from now on; a VF plugged later attaches.
  events.change(again);
  EXPECT_EQ(pair->state(), PairState::NoVf);
  EXPECT_EQ(pair->status().refusedVfs, 0u);
  attach();
  EXPECT_EQ(pair->vf()->ifindex, kVf);
  EXPECT_EQ(pair->status().refusedVfs, 0u);
}

}  // namespace
}  // namespace tvf
