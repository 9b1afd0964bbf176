// Every control request and every error reply, against a fake daemon: no
// socket, no namespace.
#include <gtest/gtest.h>

#include <map>

#include "src/ControlCommands.hpp"

namespace tvf {
namespace {

using nlohmann::json;

class FakeTarget final : public CommandTarget {
 public:
  json status() override { return {{"pairs", json::array({{{"name", "tvf0"}}})}}; }
  std::string metrics() override { return "tvf_up 1\n"; }
  std::vector<std::string> pairNames() const override { return {"tvf0", "tvf1"}; }
  PairState plannedDetach(const std::string& pair) override {
    detached.push_back(pair);
    states[pair] = detachCompletes ? PairState::NoVf : PairState::Detaching;
    return states[pair];
  }
  bool detachComplete(const std::string& pair) const override {
    return detachCompletes && states.count(pair) && states.at(pair) == PairState::NoVf;
  }
  PairState pairState(const std::string& pair) const override {
    return states.count(pair) ? states.at(pair) : PairState::Active;
  }
  Status requestAttach(const std::string& pair, const std::optional<std::string>& ifname) override {
    attached.emplace_back(pair, ifname.value_or(""));
    if (refuseAttach) return Status::fail(ENODEV, "vf9 is not a VF candidate of " + pair);
    states[pair] = PairState::Waiting;
    return {};
  }
  Status resync() override {
    ++resyncs;
    return failResync ? Status::fail(ENOBUFS, "dump") : Status::ok();
  }
  Result<std::vector<std::string>> reload() override {
    ++reloads;
    if (reloadProblem) return Error{EINVAL, *reloadProblem};
    return std::vector<std::string>{"log_level changes only on restart"};
  }
  std::optional<std::string> reloadProblem;
  json events(const std::optional<std::string>& pair, const json& after) override {
    eventsAsked.emplace_back(pair.value_or("*"), after.dump());
    return {{pair.value_or("tvf0"), {{"last_seq", 2}, {"events", json::array()}}}};
  }
  std::vector<std::pair<std::string, std::string>> eventsAsked;

  std::map<std::string, PairState> states;
  std::vector<std::string> detached;
  std::vector<std::pair<std::string, std::string>> attached;
  bool detachCompletes = true;
  bool refuseAttach = false;
  bool failResync = false;
  int resyncs = 0;
  int reloads = 0;
};

class ControlCommandsTest : public ::testing::Test {
 protected:
  json call(const json& request, int client = 1) {
    auto r = commands.handle(client, request);
    EXPECT_TRUE(r.has_value()) << request.dump();
    return r.value_or(json{});
  }
  static std::string error(const json& reply) {
    EXPECT_EQ(reply["ok"], false) << reply.dump();
    return reply.value("error", "");
  }
  FakeTarget target;
  ControlCommands commands{target};
};

TEST_F(ControlCommandsTest, StatusAndMetricsComeFromTheDaemon) {
  auto s = call({{"cmd", "status"}});
  EXPECT_EQ(s["ok"], true);
  EXPECT_EQ(s["status"]["pairs"][0]["name"], "tvf0");
  auto m = call({{"cmd", "metrics"}});
  EXPECT_EQ(m["ok"], true);
  EXPECT_EQ(m["metrics"], "tvf_up 1\n");
}

TEST_F(ControlCommandsTest, DetachActsOnTheNamedPairAndSaysItsState) {
  auto r = call({{"cmd", "detach"}, {"pair", "tvf1"}});
  EXPECT_EQ(r["ok"], true);
  EXPECT_EQ(r["state"], "novf");
  EXPECT_EQ(target.detached, std::vector<std::string>{"tvf1"});
}

TEST_F(ControlCommandsTest, DetachWaitRepliesOnlyOnceTheDetachCompleted) {
  target.detachCompletes = false;
  EXPECT_FALSE(commands.handle(7, {{"cmd", "detach"}, {"pair", "tvf0"}, {"wait", true}}).has_value());
  EXPECT_TRUE(commands.takeFinishedWaits().empty());
  target.detachCompletes = true;
  target.states["tvf0"] = PairState::NoVf;
  auto done = commands.takeFinishedWaits();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].first, 7);
  EXPECT_EQ(done[0].second["ok"], true);
  EXPECT_EQ(done[0].second["state"], "novf");
  EXPECT_TRUE(commands.takeFinishedWaits().empty());  // replied once
}

TEST_F(ControlCommandsTest, AForgottenClientGetsNoLateReply) {
  target.detachCompletes = false;
  EXPECT_FALSE(commands.handle(7, {{"cmd", "detach"}, {"pair", "tvf0"}, {"wait", true}}).has_value());
  commands.forget(7);
  target.detachCompletes = true;
  target.states["tvf0"] = PairState::NoVf;
  EXPECT_TRUE(commands.takeFinishedWaits().empty());
}

TEST_F(ControlCommandsTest, DetachErrors) {
  EXPECT_EQ(error(call({{"cmd", "detach"}})), "'detach' needs a string \"pair\"");
  EXPECT_EQ(error(call({{"cmd", "detach"}, {"pair", 3}})), "'detach' needs a string \"pair\"");
  EXPECT_EQ(error(call({{"cmd", "detach"}, {"pair", "tvf9"}})), "unknown pair 'tvf9' (pairs: tvf0, tvf1)");
  EXPECT_EQ(error(call({{"cmd", "detach"}, {"pair", "tvf0"}, {"wait", "yes"}})), "\"wait\" must be a boolean");
  EXPECT_TRUE(target.detached.empty());
}

TEST_F(ControlCommandsTest, AttachPassesTheIfnameAndReportsRefusals) {
  auto r = call({{"cmd", "attach"}, {"pair", "tvf0"}, {"ifname", "vf1"}});
  EXPECT_EQ(r["ok"], true);
  EXPECT_EQ(r["state"], "waiting");
  ASSERT_EQ(target.attached.size(), 1u);
  EXPECT_EQ(target.attached[0], std::make_pair(std::string("tvf0"), std::string("vf1")));
  target.refuseAttach = true;
  EXPECT_EQ(error(call({{"cmd", "attach"}, {"pair", "tvf0"}, {"ifname", "vf9"}})),
            "vf9 is not a VF candidate of tvf0");
}

TEST_F(ControlCommandsTest, AttachErrors) {
  EXPECT_EQ(error(call({{"cmd", "attach"}})), "'attach' needs a string \"pair\"");
  EXPECT_EQ(error(call({{"cmd", "attach"}, {"pair", "nope"}})), "unknown pair 'nope' (pairs: tvf0, tvf1)");
  EXPECT_EQ(error(call({{"cmd", "attach"}, {"pair", "tvf0"}, {"ifname", 5}})), "\"ifname\" must be a string");
  EXPECT_TRUE(target.attached.empty());
}

TEST_F(ControlCommandsTest, NotifyResyncsAndReportsItsFailure) {
  EXPECT_EQ(call({{"cmd", "notify"}})["ok"], true);
  EXPECT_EQ(target.resyncs, 1);
  target.failResync = true;
  EXPECT_NE(error(call({{"cmd", "notify"}})).find("dump"), std::string::npos);
  EXPECT_EQ(target.resyncs, 2);
}

TEST_F(ControlCommandsTest, EventsOfOnePairOrAllSinceWhatWasSeen) {
  auto all = call({{"cmd", "events"}});
  EXPECT_EQ(all["ok"], true);
  EXPECT_EQ(all["pairs"]["tvf0"]["last_seq"], 2);
  auto one = call({{"cmd", "events"}, {"pair", "tvf1"}, {"after", {{"tvf1", 5}}}});
  EXPECT_EQ(one["ok"], true);
  ASSERT_EQ(target.eventsAsked.size(), 2u);
  EXPECT_EQ(target.eventsAsked[0], std::make_pair(std::string("*"), std::string("{}")));
  EXPECT_EQ(target.eventsAsked[1], std::make_pair(std::string("tvf1"), std::string("{\"tvf1\":5}")));
  EXPECT_EQ(error(call({{"cmd", "events"}, {"pair", "nope"}})), "unknown pair 'nope' (pairs: tvf0, tvf1)");
  EXPECT_EQ(error(call({{"cmd", "events"}, {"after", 3}})), "\"after\" must be an object of PAIR: seq");
  EXPECT_EQ(target.eventsAsked.size(), 2u);
}

TEST_F(ControlCommandsTest, ReloadReloads) {
  const auto ok = call({{"cmd", "reload"}});
  EXPECT_EQ(ok["ok"], true);
  EXPECT_EQ(ok["warnings"], json::array({"log_level changes only on restart"}));
  EXPECT_EQ(target.reloads, 1);
  // A config with problems: an error reply that names them.
  target.reloadProblem = "tvf.yaml:6: pairs[0].attach_wait_ms: expected an integer\nconfiguration kept unchanged";
  EXPECT_EQ(error(call({{"cmd", "reload"}})), *target.reloadProblem);
}

TEST_F(ControlCommandsTest, AnUnknownCommandListsTheKnownOnes) {
  EXPECT_EQ(error(call({{"cmd", "frobnicate"}})),
            "unknown command 'frobnicate' (status, detach, attach, metrics, events, reload, notify)");
}

}  // namespace
}  // namespace tvf
