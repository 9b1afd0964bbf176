// TAP control operations mirrored to the backends, on their own: order
// (VF first), rollback on a refusal, and what tvf0 may keep.
#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include "failover/TapMirror.hpp"
#include "fakes/FakeKernel.hpp"

namespace tvf {
namespace {

using testing::FakeKernel;

const int kQuiet = (spdlog::set_level(spdlog::level::off), 0);

class TapMirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kernel.addLink(5, "vf0", MacAddress{});
    kernel.addLink(2, "eth0", MacAddress{});
    tap.ifindex = 10;
    tap.mtu = 1500;
    tap.up = true;
  }
  std::vector<TapMirror::Target> targets() const { return {{5, "vf0"}, {2, "eth0"}}; }

  FakeKernel kernel;
  TapMirror mirror{"tvf0", kernel, kernel};
  LinkInfo tap;
};

TEST_F(TapMirrorTest, AnMtuChangeGoesToTheVfFirstThenTheSynthetic) {
  LinkInfo now = tap;
  now.mtu = 9000;
  kernel.calls.clear();
  auto out = mirror.forward(tap, now, targets());
  EXPECT_TRUE(out.mtuChanged);
  EXPECT_EQ(out.accepted.mtu, 9000u);
  EXPECT_EQ(out.rollbacks, 0u);
  EXPECT_TRUE(out.error.empty());
  ASSERT_EQ(kernel.calls.size(), 2u);
  EXPECT_EQ(kernel.calls[0], "setMtu 5");
  EXPECT_EQ(kernel.calls[1], "setMtu 2");
  EXPECT_EQ(kernel.links[5].info.mtu, 9000u);
  EXPECT_EQ(kernel.links[2].info.mtu, 9000u);
}

TEST_F(TapMirrorTest, ARefusalUndoesWhatWasAppliedAndSetsTheTapBack) {
  LinkInfo now = tap;
  now.mtu = 9000;
  kernel.failNext("setMtu", 2, EINVAL);  // the synthetic refuses
  auto out = mirror.forward(tap, now, targets());
  EXPECT_FALSE(out.mtuChanged);
  EXPECT_EQ(out.accepted.mtu, 1500u);
  EXPECT_EQ(out.rollbacks, 1u);
  EXPECT_NE(out.error.find("mtu refused by eth0"), std::string::npos) << out.error;
  EXPECT_EQ(kernel.links[5].info.mtu, 1500u);  // the VF was set back
  EXPECT_EQ(kernel.tapMtu, 1500u);             // and so was the TAP
}

TEST_F(TapMirrorTest, PromiscAndAllmultiFollowTheTap) {
  LinkInfo now = tap;
  now.promisc = true;
  now.allmulti = true;
  auto out = mirror.forward(tap, now, targets());
  EXPECT_TRUE(out.accepted.promisc);
  EXPECT_TRUE(out.accepted.allmulti);
  EXPECT_TRUE(kernel.links[5].info.promisc);
  EXPECT_TRUE(kernel.links[2].info.allmulti);
  kernel.failNext("setPromisc", 5, EPERM);
  auto back = mirror.forward(out.accepted, tap, targets());
  EXPECT_TRUE(back.accepted.promisc);  // refused: tvf0 keeps what the backends have
  EXPECT_FALSE(back.accepted.allmulti);
  EXPECT_EQ(back.rollbacks, 1u);
}

TEST_F(TapMirrorTest, TheMulticastListReachesEveryTarget) {
  const std::vector<MacAddress> groups{MacAddress{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}}};
  mirror.mirrorMulticast(groups, targets());
  EXPECT_EQ(kernel.links[5].multicast, groups);
  EXPECT_EQ(kernel.links[2].multicast, groups);
}

}  // namespace
}  // namespace tvf

namespace tvf {
namespace {

using testing::FakeKernel;

// The same, with the TAP's MAC set.
class TapMirrorIntentTest : public TapMirrorTest {
 protected:
  void SetUp() override {
    TapMirrorTest::SetUp();
    tap.mac = *MacAddress::parse("02:00:c6:12:00:02");
  }
};

TEST_F(TapMirrorIntentTest, APromiscuityCounterAloneMakesBothBackendsPromiscuous) {
  LinkInfo now = tap;
  now.promiscuity = 1;  // tcpdump -i tvf0: the counter, not the flag
  auto out = mirror.forward(tap, now, targets());
  EXPECT_TRUE(kernel.links[5].info.promisc);
  EXPECT_TRUE(kernel.links[2].info.promisc);
  EXPECT_EQ(out.accepted.promiscuity, 1u);
  // A second capture only moves the counter: nothing to do.
  LinkInfo more = out.accepted;
  more.promiscuity = 2;
  kernel.calls.clear();
  out = mirror.forward(out.accepted, more, targets());
  EXPECT_TRUE(kernel.calls.empty());
  EXPECT_EQ(out.accepted.promiscuity, 2u);
  // Both captures end.
  LinkInfo none = out.accepted;
  none.promiscuity = 0;
  out = mirror.forward(out.accepted, none, targets());
  EXPECT_FALSE(kernel.links[5].info.promisc);
  EXPECT_FALSE(kernel.links[2].info.promisc);
}

TEST_F(TapMirrorIntentTest, AnAllmultiCounterAloneReachesBothBackends) {
  LinkInfo now = tap;
  now.allmultiCount = 1;
  mirror.forward(tap, now, targets());
  EXPECT_TRUE(kernel.links[5].info.allmulti);
  EXPECT_TRUE(kernel.links[2].info.allmulti);
}

TEST_F(TapMirrorIntentTest, AMacChangeIsRefusedAndTheTapSetBack) {
  LinkInfo now = tap;
  now.mac = *MacAddress::parse("02:00:c6:12:00:99");
  kernel.tapMac = now.mac;  // ip link set tvf0 address ...
  kernel.calls.clear();
  auto out = mirror.forward(tap, now, targets());
  EXPECT_EQ(kernel.tapMac, tap.mac);
  EXPECT_EQ(out.accepted.mac, tap.mac);
  EXPECT_EQ(out.rollbacks, 1u);
  EXPECT_NE(out.error.find("MAC change on tvf0 to 02:00:c6:12:00:99 refused"), std::string::npos) << out.error;
  ASSERT_EQ(kernel.calls.size(), 1u);  // no backend was touched
  EXPECT_EQ(kernel.calls[0], "tap.setMac 02:00:c6:12:00:02");
}

TEST_F(TapMirrorIntentTest, AnEventOlderThanTheTapsMacIsNoChange) {
  LinkInfo stale = tap;
  stale.mac = *MacAddress::parse("d6:43:ef:2a:3e:7b");  // the TAP as created, before tvf set its MAC
  kernel.tapMac = tap.mac;
  kernel.calls.clear();
  auto out = mirror.forward(tap, stale, targets());
  EXPECT_EQ(out.rollbacks, 0u);
  EXPECT_TRUE(out.error.empty()) << out.error;
  EXPECT_EQ(out.accepted.mac, tap.mac);
  EXPECT_TRUE(kernel.calls.empty());
}

TEST_F(TapMirrorIntentTest, KeepPutsABackendBackToTheTapsState) {
  tap.mtu = 9000;
  tap.promiscuity = 1;
  kernel.links[5].caps.maxMtu = 9000;
  kernel.links[5].info.up = false;     // set down behind tvf's back
  LinkInfo vf = kernel.links[5].info;  // mtu 1500, down, not promisc
  auto kept = mirror.keep(tap, vf);
  EXPECT_TRUE(kept.error.empty()) << kept.error;
  EXPECT_EQ(kept.restored.size(), 3u);
  EXPECT_EQ(kernel.links[5].info.mtu, 9000u);
  EXPECT_TRUE(kernel.links[5].info.promisc);
  EXPECT_TRUE(kernel.links[5].info.up);
  // Already right: nothing is done.
  kernel.calls.clear();
  kept = mirror.keep(tap, kernel.links[5].info);
  EXPECT_TRUE(kept.restored.empty());
  EXPECT_TRUE(kernel.calls.empty());
}

// A link event queued before the pair started (the synthetic still down,
// as it was) arrives after tvf set it up: the link now is as it should be,
// and nothing was changed behind tvf's back.
TEST_F(TapMirrorIntentTest, KeepJudgesByTheLinkNowNotByAnOlderEvent) {
  LinkInfo stale = kernel.links[5].info;
  stale.up = false;
  stale.promisc = true;
  kernel.calls.clear();
  auto kept = mirror.keep(tap, stale);
  EXPECT_TRUE(kept.restored.empty());
  EXPECT_TRUE(kept.error.empty()) << kept.error;
  EXPECT_TRUE(kernel.calls.empty());
}

TEST_F(TapMirrorIntentTest, KeepReportsARefusal) {
  tap.mtu = 9000;
  kernel.failAlways("setMtu", 5, ERANGE);
  auto kept = mirror.keep(tap, kernel.links[5].info);
  EXPECT_NE(kept.error.find("vf0 changed behind tvf's back (mtu 1500), and refused mtu 9000"), std::string::npos)
      << kept.error;
}

// A VF unplugged by surprise goes down as it unregisters: putting it back up
// fails with ENODEV. That is its removal, not a change behind tvf's back
// (the removal event follows): no error, no further attempt.
TEST_F(TapMirrorIntentTest, KeepSaysNothingOfABackendThatIsGoingAway) {
  tap.mtu = 9000;
  kernel.links[5].info.up = false;
  kernel.failAlways("setMtu", 5, ENODEV);
  auto kept = mirror.keep(tap, kernel.links[5].info);
  EXPECT_TRUE(kept.error.empty()) << kept.error;
  EXPECT_TRUE(kept.restored.empty());
  EXPECT_FALSE(kernel.links[5].info.up);  // the MTU's ENODEV ended it: no "up" was tried
}

}  // namespace
}  // namespace tvf
