// The VF candidate bookkeeping on its own.
#include <gtest/gtest.h>

#include "failover/CandidateSet.hpp"

namespace tvf {
namespace {

using namespace std::chrono_literals;

LinkInfo link(int ifindex, const std::string& name) {
  LinkInfo l;
  l.ifindex = ifindex;
  l.ifname = name;
  return l;
}

TEST(CandidateSet, AnOfferRestartsTheWaitAndARefreshDoesNot) {
  CandidateSet set;
  const Clock::TimePoint t0{1000ms};
  set.offer(link(5, "vf0"), t0);
  EXPECT_EQ(set.since(5), t0);
  set.refresh(link(5, "vf0renamed"));
  EXPECT_EQ(set.since(5), t0);
  EXPECT_TRUE(set.knows("vf0renamed"));
  EXPECT_FALSE(set.knows("vf0"));
  set.offer(link(5, "vf0renamed"), t0 + 300ms);
  EXPECT_EQ(set.since(5), t0 + 300ms);
  EXPECT_FALSE(set.since(6).has_value());
  set.refresh(link(6, "stranger"));  // not a candidate: nothing is added
  EXPECT_FALSE(set.knows("stranger"));
}

TEST(CandidateSet, PickTakesThePreferredOneOrTheLowestIfindex) {
  CandidateSet set;
  EXPECT_FALSE(set.pick().has_value());
  set.offer(link(9, "vf9"), Clock::TimePoint{});
  set.offer(link(7, "vf7"), Clock::TimePoint{});
  EXPECT_EQ(set.pick()->ifindex, 7);
  set.prefer("vf9");
  EXPECT_EQ(set.pick()->ifindex, 9);
  EXPECT_FALSE(set.accepts(link(7, "vf7")));
  EXPECT_TRUE(set.accepts(link(9, "vf9")));
  set.prefer("absent");
  EXPECT_FALSE(set.pick().has_value());
  set.prefer(std::nullopt);
  EXPECT_EQ(set.pick()->ifindex, 7);
}

TEST(CandidateSet, ARemovedCandidateIsForgotten) {
  CandidateSet set;
  set.offer(link(7, "vf7"), Clock::TimePoint{});
  set.remove(7);
  EXPECT_TRUE(set.empty());
  EXPECT_FALSE(set.knows("vf7"));
  EXPECT_FALSE(set.pick().has_value());
}

}  // namespace
}  // namespace tvf
