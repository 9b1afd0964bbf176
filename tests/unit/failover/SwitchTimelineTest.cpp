#include "failover/SwitchTimeline.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace tvf {
namespace {

using std::chrono::microseconds;

SwitchEvent event(SwitchReason reason, PathKind from, PathKind to, std::int64_t monoUs, std::string vf = "vf0") {
  SwitchEvent e;
  e.wallUnixUs = 1'800'000'000'000'000 + monoUs;
  e.monotonicUs = monoUs;
  e.from = from;
  e.to = to;
  e.vfIfname = std::move(vf);
  e.reason = reason;
  return e;
}

TEST(SwitchTimeline, EveryReasonHasADistinctLabelSafeNameThatParsesBack) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < kSwitchReasonCount; ++i) {
    const auto r = static_cast<SwitchReason>(i);
    const std::string name = switchReasonName(r);
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string::npos) << name;
    EXPECT_EQ(switchReasonFromName(name), r);
  }
  EXPECT_FALSE(switchReasonFromName("Planned_Detach"));
  EXPECT_FALSE(switchReasonFromName(""));
}

TEST(SwitchTimeline, PlannedMigrationThenSurpriseRemovalKeepsBothWithReasonsAndDurations) {
  SwitchTimeline t;
  const auto a = t.record(event(SwitchReason::PlannedDetach, PathKind::Vf, PathKind::Synthetic, 1000));
  const auto b = t.record(event(SwitchReason::Attach, PathKind::Synthetic, PathKind::Vf, 5'000'000, "vf1"));
  const auto c = t.record(event(SwitchReason::VfVanished, PathKind::Vf, PathKind::Synthetic, 9'000'000, "vf1"));
  EXPECT_EQ(a, 1u);
  EXPECT_EQ(b, 2u);
  EXPECT_EQ(c, 3u);
  EXPECT_TRUE(t.complete(a, microseconds(180), 0));
  EXPECT_TRUE(t.complete(c, microseconds(2400), 17));
  ASSERT_EQ(t.events().size(), 3u);
  EXPECT_EQ(t.events()[0].reason, SwitchReason::PlannedDetach);
  EXPECT_EQ(t.events()[0].triggerToTxUs, 180);
  EXPECT_EQ(t.events()[1].triggerToTxUs, std::nullopt);  // not completed
  EXPECT_EQ(t.events()[2].reason, SwitchReason::VfVanished);
  EXPECT_EQ(t.events()[2].vfIfname, "vf1");
  EXPECT_EQ(t.events()[2].triggerToTxUs, 2400);
  EXPECT_EQ(t.events()[2].framesDropped, 17u);
  // A completed event keeps its first measurement.
  EXPECT_FALSE(t.complete(c, microseconds(1), 1));
  EXPECT_EQ(t.events()[2].triggerToTxUs, 2400);
  EXPECT_FALSE(t.complete(99, microseconds(1), 0));
}

TEST(SwitchTimeline, ATriggerTimesTheSwitchItLeadsTo) {
  SwitchTimeline t;
  // A VF appears at 1 s; attach_wait and the attach take 2.0123 s; 4 frames
  // were dropped meanwhile.
  t.trigger(SwitchReason::Attach, 1'800'000'001'000'000, 1'000'000, 100);
  EXPECT_TRUE(t.hasPendingTrigger());
  const auto seq = t.switched(PathKind::Synthetic, PathKind::Vf, "vf1", 1'800'000'003'012'300, 3'012'300, 104,
                              SwitchReason::OperatorCommand);
  EXPECT_FALSE(t.hasPendingTrigger());
  ASSERT_EQ(t.events().size(), 1u);
  const auto& e = t.events()[0];
  EXPECT_EQ(e.seq, seq);
  EXPECT_EQ(e.reason, SwitchReason::Attach);
  EXPECT_EQ(e.monotonicUs, 1'000'000);  // the trigger's time, not the switch's
  EXPECT_EQ(e.wallUnixUs, 1'800'000'001'000'000);
  EXPECT_EQ(e.triggerToTxUs, 2'012'300);
  EXPECT_EQ(e.framesDropped, 4u);
  EXPECT_EQ(e.vfIfname, "vf1");
  // A trigger towards the other path replaces a pending one; one towards
  // the same path does not (the first event started the switch).
  t.trigger(SwitchReason::Attach, 0, 4'000'000, 104);
  t.trigger(SwitchReason::CarrierLost, 0, 5'000'000, 104);
  t.trigger(SwitchReason::VfVanished, 0, 6'000'000, 110);
  t.switched(PathKind::Vf, PathKind::Synthetic, "vf1", 0, 6'000'450, 113, SwitchReason::OperatorCommand);
  EXPECT_EQ(t.events()[1].reason, SwitchReason::CarrierLost);
  EXPECT_EQ(t.events()[1].triggerToTxUs, 1'000'450);
  EXPECT_EQ(t.events()[1].framesDropped, 9u);
  t.trigger(SwitchReason::Attach, 0, 7'000'000, 0);
  t.clearTrigger();  // the attach failed
  EXPECT_FALSE(t.hasPendingTrigger());
  // No trigger: the fallback reason, at the switch's own time, duration 0.
  t.switched(PathKind::Synthetic, PathKind::Vf, "vf2", 7, 8'000'000, 0, SwitchReason::OperatorCommand);
  EXPECT_EQ(t.events()[2].reason, SwitchReason::OperatorCommand);
  EXPECT_EQ(t.events()[2].monotonicUs, 8'000'000);
  EXPECT_EQ(t.events()[2].triggerToTxUs, 0);
  EXPECT_EQ(t.events()[2].framesDropped, 0u);
}

TEST(SwitchTimeline, KeepsTheLast256AndCountsEverySwitchByReason) {
  SwitchTimeline t;
  for (int i = 0; i < 300; ++i)
    t.record(event(i % 2 ? SwitchReason::CarrierLost : SwitchReason::CarrierBack, PathKind::Vf,
                   PathKind::Synthetic, i));
  ASSERT_EQ(t.events().size(), SwitchTimeline::kCapacity);
  EXPECT_EQ(t.events().front().seq, 300u - 256u + 1u);
  EXPECT_EQ(t.events().back().seq, 300u);
  EXPECT_EQ(t.lastSeq(), 300u);
  for (std::size_t i = 1; i < t.events().size(); ++i) EXPECT_EQ(t.events()[i].seq, t.events()[i - 1].seq + 1);
  EXPECT_EQ(t.countsByReason()[static_cast<std::size_t>(SwitchReason::CarrierLost)], 150u);
  EXPECT_EQ(t.countsByReason()[static_cast<std::size_t>(SwitchReason::CarrierBack)], 150u);
  // An evicted event can no longer be completed; a held one can.
  EXPECT_FALSE(t.complete(1, microseconds(5), 0));
  EXPECT_TRUE(t.complete(45, microseconds(5), 0));
  EXPECT_EQ(t.events().front().triggerToTxUs, 5);
}

TEST(SwitchTimeline, AFollowerGetsExactlyWhatItHasNotSeen) {
  SwitchTimeline t;
  EXPECT_TRUE(t.after(0).empty());
  EXPECT_EQ(t.lastSeq(), 0u);
  for (int i = 0; i < 5; ++i) t.record(event(SwitchReason::OperatorCommand, PathKind::Vf, PathKind::Synthetic, i));
  auto fresh = t.after(3);
  ASSERT_EQ(fresh.size(), 2u);
  EXPECT_EQ(fresh[0].seq, 4u);
  EXPECT_EQ(fresh[1].seq, 5u);
  EXPECT_TRUE(t.after(5).empty());
  EXPECT_EQ(t.after(0).size(), 5u);
}

TEST(SwitchTimeline, SurvivesASaveAndRestoreAndNumbersOnFromThere) {
  SwitchTimeline t;
  for (int i = 0; i < 260; ++i) t.record(event(SwitchReason::MtuDrift, PathKind::Vf, PathKind::Synthetic, i));
  t.complete(260, microseconds(777), 3);
  const std::string saved = t.toJson().dump();
  auto back = SwitchTimeline::fromJson(nlohmann::json::parse(saved));
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(back->events(), t.events());
  EXPECT_EQ(back->countsByReason(), t.countsByReason());
  EXPECT_EQ(back->toJson(), t.toJson());
  SwitchTimeline restored = std::move(back).value();
  EXPECT_EQ(restored.record(event(SwitchReason::Attach, PathKind::Synthetic, PathKind::Vf, 1)), 261u);
  EXPECT_EQ(restored.events().size(), SwitchTimeline::kCapacity);
}

TEST(SwitchTimeline, EventJsonCarriesTheContractFields) {
  SwitchTimeline t;
  t.record(event(SwitchReason::PortError, PathKind::Vf, PathKind::Synthetic, 42));
  const auto j = t.toJson()["events"][0];
  EXPECT_EQ(j["seq"], 1);
  EXPECT_EQ(j["monotonic_us"], 42);
  EXPECT_EQ(j["from"], "vf");
  EXPECT_EQ(j["to"], "synthetic");
  EXPECT_EQ(j["vf"], "vf0");
  EXPECT_EQ(j["reason"], "port_error");
  EXPECT_TRUE(j["trigger_to_tx_us"].is_null());
  EXPECT_EQ(j["frames_dropped"], 0);
  EXPECT_EQ(t.toJson()["counts"]["port_error"], 1);
}

TEST(SwitchTimeline, ARestoreRejectsABrokenFileNamingTheField) {
  SwitchTimeline t;
  t.record(event(SwitchReason::Attach, PathKind::Synthetic, PathKind::Vf, 1));
  t.record(event(SwitchReason::CarrierLost, PathKind::Vf, PathKind::Synthetic, 2));
  const auto good = t.toJson();
  auto broken = [&](auto edit) {
    auto j = good;
    edit(j);
    auto r = SwitchTimeline::fromJson(j);
    EXPECT_FALSE(r) << j.dump();
    return r ? std::string() : r.error().what;
  };
  EXPECT_EQ(broken([](auto& j) { j["events"][1]["reason"] = "sunspots"; }), "events[1].reason: unknown 'sunspots'");
  EXPECT_EQ(broken([](auto& j) { j["events"][0]["to"] = "wifi"; }),
            "events[0].to: unknown path 'wifi' (vf or synthetic)");
  EXPECT_EQ(broken([](auto& j) { j["events"][0].erase("frames_dropped"); }), "events[0].frames_dropped: missing");
  EXPECT_EQ(broken([](auto& j) { j["events"][0]["frames_dropped"] = -1; }),
            "events[0].frames_dropped: expected a non-negative integer, got -1");
  EXPECT_EQ(broken([](auto& j) { j["events"][1]["seq"] = 7; }), "events[1].seq: 7 does not follow 1");
  EXPECT_EQ(broken([](auto& j) { j["next_seq"] = 2; }), "events[1].seq: 2 is not below next_seq 2");
  EXPECT_EQ(broken([](auto& j) { j["version"] = 2; }), "version: expected 1, got 2");
  EXPECT_EQ(broken([](auto& j) { j["version"] = "1"; }), "version: expected 1, got \"1\"");
  EXPECT_EQ(broken([](auto& j) { j["counts"]["nope"] = 1; }), "counts.nope: unknown reason");
  EXPECT_EQ(broken([](auto& j) { j = nlohmann::json::array(); }), "timeline: expected an object");
  auto r = SwitchTimeline::fromJson(good);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->events().size(), 2u);
}

}  // namespace
}  // namespace tvf
