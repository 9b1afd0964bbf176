#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "failover/PairStateMachine.hpp"
#include "failover/VfMatcher.hpp"
#include "failover/CounterAccumulator.hpp"

namespace tvf {
namespace {

const std::vector<PairState> kStates = {PairState::NoVf,      PairState::Waiting,
                                        PairState::Attaching, PairState::Active,
                                        PairState::Detaching, PairState::Failed};

// A (state, event) pair has one row, or two with complementary guards, so
// a lookup is never ambiguous and never depends on row order.
TEST(TransitionTable, EachStateEventPairAppearsOnce) {
  std::map<std::pair<int, int>, std::set<Guard>> seen;
  for (const auto& row : transitionTable()) {
    const std::pair<int, int> key{static_cast<int>(row.from), static_cast<int>(row.event)};
    EXPECT_TRUE(seen[key].insert(row.guard).second) << stateName(row.from) << " x " << eventName(row.event);
  }
  for (const auto& [key, guards] : seen) {
    const bool single = guards == std::set<Guard>{Guard::Always};
    const bool split = guards == std::set<Guard>{Guard::VfUsable, Guard::VfNotUsable};
    EXPECT_TRUE(single || split) << stateName(static_cast<PairState>(key.first)) << " x "
                                 << eventName(static_cast<PairEvent>(key.second));
  }
}

// The TX column says where TX is after a row, and agrees with its actions:
// the table alone tells where TX is.
TEST(TransitionTable, TheTxColumnAgreesWithTheActions) {
  for (const auto& row : transitionTable()) {
    const auto& a = row.to.actions;
    const bool toVf = std::find(a.begin(), a.end(), PairAction::SwitchTxToVf) != a.end();
    const bool toSyn = std::find(a.begin(), a.end(), PairAction::SwitchTxToSynthetic) != a.end();
    const std::string where = std::string(stateName(row.from)) + " x " + std::string(eventName(row.event));
    if (toVf) {
      EXPECT_EQ(row.to.tx, TxAfter::Vf) << where;
    }
    if (toSyn) {
      EXPECT_EQ(row.to.tx, TxAfter::Synthetic) << where;
    }
    if (row.to.tx == TxAfter::Vf) {
      EXPECT_TRUE(toVf) << where;
    }
  }
}

// TX moves to the VF only on a row guarded by "the VF is usable"; an
// attached VF without carrier keeps TX on the synthetic until its wait ends.
TEST(TransitionTable, TxMovesToTheVfOnlyWhenItIsUsable) {
  for (const auto& row : transitionTable()) {
    if (row.to.tx == TxAfter::Vf) {
      EXPECT_EQ(row.guard, Guard::VfUsable) << stateName(row.from) << " x " << eventName(row.event);
    }
  }
  auto t = lookupTransition(PairState::Attaching, PairEvent::AttachSucceeded, /*vfUsable=*/false);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->next, PairState::Active);
  EXPECT_EQ(t->tx, TxAfter::Synthetic);
  auto up = lookupTransition(PairState::Active, PairEvent::VfCarrierUp, false);
  ASSERT_TRUE(up);
  EXPECT_EQ(up->actions, std::vector<PairAction>{PairAction::StartCarrierWait});
}

TEST(TransitionTable, EveryStateWithAVfHandlesItsRemoval) {
  for (PairState s : kStates) {
    auto t = lookupTransition(s, PairEvent::VfVanished);
    ASSERT_TRUE(t.has_value()) << stateName(s);
  }
}

TEST(TransitionTable, LeavingTheVfSwitchesTxBeforeRetiring) {
  for (PairEvent e : {PairEvent::VfVanished, PairEvent::PortError, PairEvent::PlannedDetach}) {
    auto t = lookupTransition(PairState::Active, e);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->next, PairState::Detaching);
    const auto& a = t->actions;
    auto sw = std::find(a.begin(), a.end(), PairAction::SwitchTxToSynthetic);
    ASSERT_NE(sw, a.end());
    for (PairAction later : {PairAction::RetireVfPort, PairAction::StartDrain}) {
      auto it = std::find(a.begin(), a.end(), later);
      if (it != a.end()) {
        EXPECT_LT(sw, it) << eventName(e);
      }
    }
  }
}

TEST(TransitionTable, IllegalPairsAreAbsent) {
  EXPECT_FALSE(lookupTransition(PairState::NoVf, PairEvent::AttachSucceeded));
  EXPECT_FALSE(lookupTransition(PairState::Active, PairEvent::DrainElapsed));
  EXPECT_FALSE(lookupTransition(PairState::NoVf, PairEvent::VfPortRetired));
}

TEST(TransitionTable, NamesAreDefined) {
  for (const auto& row : transitionTable()) {
    EXPECT_NE(eventName(row.event), "?");
    for (auto a : row.to.actions) EXPECT_NE(actionName(a), "?");
  }
  for (PairState s : kStates) EXPECT_NE(stateName(s), "unknown");
}

TEST(VfMatcher, ClassifiesByDesignRules) {
  const MacAddress mac = *MacAddress::parse("02:00:c6:12:00:02");
  VfMatchContext ctx{mac, 2, 10};
  LinkInfo l;
  l.ifindex = 5;
  l.mac = mac;
  l.kind = "veth";
  EXPECT_EQ(classifyVf(ctx, l), VfVerdict::Candidate);
  l.kind = "";  // a real VF driver has no IFLA_INFO_KIND
  EXPECT_EQ(classifyVf(ctx, l), VfVerdict::Candidate);
  for (const char* k : {"vlan", "bridge", "bond", "macvlan", "tun"}) {
    l.kind = k;
    EXPECT_EQ(classifyVf(ctx, l), VfVerdict::ExcludedKind) << k;
  }
  l.kind = "veth";
  l.masterIndex = 3;
  EXPECT_EQ(classifyVf(ctx, l), VfVerdict::Enslaved);
  l.masterIndex = 0;
  l.arpType = 32;  // ARPHRD_INFINIBAND
  EXPECT_EQ(classifyVf(ctx, l), VfVerdict::NotEthernet);
  l.arpType = kArphrdEther;
  l.ifindex = 2;
  EXPECT_EQ(classifyVf(ctx, l), VfVerdict::IsSynthetic);
  l.ifindex = 10;
  EXPECT_EQ(classifyVf(ctx, l), VfVerdict::IsTap);
  l.ifindex = 5;
  l.mac = *MacAddress::parse("02:00:c6:12:00:03");
  EXPECT_EQ(classifyVf(ctx, l), VfVerdict::WrongMac);
  EXPECT_EQ(verdictName(VfVerdict::Enslaved), "enslaved");
}

TEST(CounterAccumulator, FoldsRetiredPorts) {
  CounterAccumulator acc;
  PathCounters a;
  a.rxPackets = 3;
  a.txDropped = 1;
  acc.fold(a);
  acc.fold(a);
  PathCounters live;
  live.rxPackets = 1;
  auto t = acc.total(live);
  EXPECT_EQ(t.rxPackets, 7u);
  EXPECT_EQ(t.txDropped, 2u);
}

TEST(MacAddress, ParsesAndPrints) {
  auto m = MacAddress::parse("02:00:C6:12:00:0a");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->toString(), "02:00:c6:12:00:0a");
  EXPECT_FALSE(MacAddress::parse("02:00:c6:12:00"));
  EXPECT_FALSE(MacAddress::parse("02:00:c6:12:00:zz"));
  EXPECT_FALSE(MacAddress::parse("02.00.c6.12.00.0a"));
  EXPECT_TRUE(MacAddress::parse("01:00:5e:00:00:01")->isMulticast());
}

}  // namespace
}  // namespace tvf
