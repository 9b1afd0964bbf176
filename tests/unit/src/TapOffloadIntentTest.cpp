// The operator's offload choices on tvf0 (src/TapOffloadIntent): what went
// off between two of tvf's TUNSETOFFLOADs is the operator's, and is cleared
// again after the next; what the operator turns on again is forgotten.
#include <gtest/gtest.h>

#include "src/TapOffloadIntent.hpp"

namespace tvf {
namespace {

constexpr std::uint32_t kTso = 1u << 16, kCsum = 1u << 3, kSg = 1u << 0;

TEST(OffloadIntent, NothingToCompareWithTheFirstTime) {
  OffloadIntent intent;
  intent.observe({kSg});
  EXPECT_TRUE(intent.toClear({kSg | kTso | kCsum}).empty());
}

TEST(OffloadIntent, WhatTheOperatorTurnedOffIsClearedAfterEveryRewrite) {
  OffloadIntent intent;
  intent.applied({kSg | kTso | kCsum, 0});
  intent.observe({kSg | kCsum, 0});  // ethtool -K tvf0 tso off
  // TUNSETOFFLOAD put TSO back: it is to be cleared.
  EXPECT_EQ(intent.toClear({kSg | kTso | kCsum, 0}), (FeatureWords{kTso, 0}));
  intent.applied({kSg | kCsum, 0});
  // A later rewrite that drops checksumming (the VF lost it) is tvf's, not the operator's.
  intent.observe({kSg | kCsum, 0});
  intent.applied({kSg, 0});
  intent.observe({kSg, 0});
  EXPECT_EQ(intent.toClear({kSg | kTso | kCsum, 0}), (FeatureWords{kTso, 0}));
  EXPECT_TRUE(intent.toClear({kSg | kCsum, 0}).empty()) << "nothing to clear when TSO is off already";
}

TEST(OffloadIntent, WhatTheOperatorTurnsOnAgainIsForgotten) {
  OffloadIntent intent;
  intent.applied({kSg | kTso});
  intent.observe({kSg});
  intent.applied({kSg});
  intent.observe({kSg | kTso});  // ethtool -K tvf0 tso on
  EXPECT_TRUE(intent.toClear({kSg | kTso}).empty());
  EXPECT_EQ(intent.operatorOff(), (FeatureWords{0}));
}

TEST(OffloadIntent, BitsInLaterWordsCount) {
  OffloadIntent intent;
  intent.applied({kSg, 1u << 5});
  intent.observe({kSg, 0});
  EXPECT_EQ(intent.toClear({kSg, 1u << 5}), (FeatureWords{0, 1u << 5}));
}

// gso_max_size as `ip link set tvf0 gso_max_size N` leaves it between two
// switches (65536: what the TAP and a VF allow).
TEST(GsoLimitIntent, NothingIsTheOperatorsBeforeTvfsFirstWrite) {
  GsoLimitIntent g;
  EXPECT_EQ(g.next(16384, 65536), 65536u);  // a persistent tvf0's old value: origin unknown
  EXPECT_EQ(g.operatorCeiling(), 0u);
}

TEST(GsoLimitIntent, TheOperatorsLowerValueStaysACeilingAcrossSwitches) {
  GsoLimitIntent g;
  g.applied(g.next(65536, 65536));
  EXPECT_EQ(g.next(16384, 65536), 16384u);  // the operator lowered it: kept
  g.applied(16384);
  EXPECT_EQ(g.next(16384, 65536), 16384u);  // the next switch: still kept
  g.applied(16384);
  EXPECT_EQ(g.next(16384, 8192), 8192u);    // paths narrower still: theirs
  g.applied(8192);
  EXPECT_EQ(g.next(8192, 65536), 16384u);   // and back under the ceiling again
  EXPECT_EQ(g.operatorCeiling(), 16384u);
}

TEST(GsoLimitIntent, RaisingItToTheMaximumLiftsTheCeiling) {
  GsoLimitIntent g;
  g.applied(g.next(65536, 65536));
  g.applied(g.next(16384, 65536));
  EXPECT_EQ(g.next(65536, 65536), 65536u);
  EXPECT_EQ(g.operatorCeiling(), 65536u);
}

// A restarted daemon on a persistent tvf0 goes on from the saved state: an
// operator's change made after the last switch is still seen as one.
TEST(OffloadIntent, ARestoredIntentSeesWhatChangedSinceTheLastRun) {
  OffloadIntent before;
  before.applied({kTso | kCsum | kSg});
  OffloadIntent after;
  after.restore(before.lastApplied(), before.operatorOff());
  after.observe({kCsum | kSg});  // tso turned off while no daemon ran
  EXPECT_EQ(after.toClear({kTso | kCsum | kSg}), (FeatureWords{kTso}));
}

TEST(GsoLimitIntent, ARestoredIntentKeepsTheCeilingAndSeesANewOne) {
  GsoLimitIntent before;
  before.applied(before.next(65536, 65536));
  before.applied(before.next(16384, 65536));
  GsoLimitIntent kept;
  kept.restore(before.written(), before.operatorCeiling());
  EXPECT_EQ(kept.next(16384, 65536), 16384u);
  GsoLimitIntent changed;  // lowered again after the last run's write
  changed.restore(before.written(), before.operatorCeiling());
  EXPECT_EQ(changed.next(8000, 65536), 8000u);
}

}  // namespace
}  // namespace tvf
