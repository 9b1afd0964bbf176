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
