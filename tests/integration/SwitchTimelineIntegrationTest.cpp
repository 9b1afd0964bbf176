// The switch timeline through the real tvfd: `tvfctl events` after a
// planned migration and a surprise removal, `--follow` delivering a switch
// within 100 ms, the per-reason metrics, and events surviving a restart.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "Topology.hpp"

namespace tvf::it {
namespace {

using namespace std::chrono_literals;

std::int64_t unixMicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Timeline : public TopologyTest {
 protected:
  nlohmann::json events() {
    auto r = topo->tvfctl("events tvf0 --json");
    EXPECT_EQ(r.status, 0) << r.out;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_discarded() ? nlohmann::json::array() : j;
  }
  std::string migrate(const std::string& phase) {
    auto r = topo->inGuest("TVFCTL=" + std::string(TVFCTL_PATH) + " " + TVF_SOURCE_DIR +
                           "/conf/hotplug/tvf-migrate --socket " + topo->socket() + " " + phase);
    EXPECT_EQ(r.status, 0) << phase << ": " << r.out;
    return r.out;
  }
};

TEST_F(Timeline, PlannedMigrationAndSurpriseRemovalAreListedWithReasonsAndDurations) {
  ASSERT_TRUE(topo->startTvfd());  // attach_wait_ms: 300
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  migrate("pre");
  topo->delVf("vf0");
  topo->addVf("vf1");
  migrate("post");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  topo->delVf("vf1");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));

  auto ev = events();
  ASSERT_EQ(ev.size(), 4u) << ev.dump(1);
  // The second attach was started by tvf-migrate post (tvfctl attach). A
  // veth, like a real VF, loses carrier as it is deleted: what moved TX in
  // the surprise removal is that loss, a moment before the netdev vanished.
  const char* reasons[] = {"attach", "planned_detach", "operator_command", "carrier_lost"};
  const char* vfs[] = {"vf0", "vf0", "vf1", "vf1"};
  const char* to[] = {"vf", "synthetic", "vf", "synthetic"};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(ev[i]["seq"], i + 1);
    EXPECT_EQ(ev[i]["pair"], "tvf0");
    EXPECT_EQ(ev[i]["reason"], reasons[i]) << i;
    EXPECT_EQ(ev[i]["vf"], vfs[i]) << i;
    EXPECT_EQ(ev[i]["to"], to[i]) << i;
    EXPECT_TRUE(ev[i]["trigger_to_tx_us"].is_number_integer()) << ev[i];
    EXPECT_TRUE(ev[i]["frames_dropped"].is_number_unsigned()) << ev[i];
    if (i > 0) {
      EXPECT_GE(ev[i]["monotonic_us"].get<std::int64_t>(), ev[i - 1]["monotonic_us"].get<std::int64_t>());
    }
  }
  // The attach waited attach_wait (300 ms) after the VF appeared.
  EXPECT_GE(ev[0]["trigger_to_tx_us"].get<std::int64_t>(), 300'000) << ev[0];
  EXPECT_LT(ev[0]["trigger_to_tx_us"].get<std::int64_t>(), 5'000'000) << ev[0];
  // A planned detach and a removal move TX in the same control-thread step.
  EXPECT_LT(ev[1]["trigger_to_tx_us"].get<std::int64_t>(), 100'000) << ev[1];
  EXPECT_LT(ev[3]["trigger_to_tx_us"].get<std::int64_t>(), 100'000) << ev[3];
  std::fprintf(stderr, "timeline:\n%s", topo->tvfctl("events").out.c_str());

  // The text form has one line per event, and the metrics count by reason.
  auto text = topo->tvfctl("events");
  EXPECT_NE(text.out.find(" tvf0 #4 vf->synthetic vf1 carrier_lost "), std::string::npos) << text.out;
  auto m = topo->tvfctl("metrics");
  EXPECT_NE(m.out.find("tvf_switches_by_reason_total{pair=\"tvf0\",reason=\"attach\"} 1\n"), std::string::npos)
      << m.out;
  EXPECT_NE(m.out.find("tvf_switches_by_reason_total{pair=\"tvf0\",reason=\"carrier_lost\"} 1\n"), std::string::npos)
      << m.out;
  EXPECT_NE(m.out.find("tvf_switches_by_reason_total{pair=\"tvf0\",reason=\"port_error\"} 0\n"), std::string::npos)
      << m.out;
}

TEST_F(Timeline, FollowDeliversASwitchWithin100Ms) {
  ASSERT_TRUE(topo->startTvfd());
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  const std::string pidFile = topo->dir() + "/follow.pid";
  FILE* follow = ::popen(("sh -c 'echo $$ >" + pidFile + "; exec " + TVFCTL_PATH + " --socket " + topo->socket() +
                          " events --follow --json'")
                             .c_str(),
                         "r");
  ASSERT_NE(follow, nullptr);
  // The first line is the attach that already happened.
  char line[4096];
  ASSERT_NE(std::fgets(line, sizeof line, follow), nullptr);
  EXPECT_EQ(nlohmann::json::parse(line, nullptr, false).value("reason", ""), "attach") << line;
  // Now a switch: the follower must print it within 100 ms of TX moving.
  std::thread detach([&] { topo->tvfctl("detach tvf0"); });
  const bool got = std::fgets(line, sizeof line, follow) != nullptr;
  const std::int64_t arrived = unixMicrosNow();
  detach.join();
  std::string pid;
  std::getline(std::ifstream(pidFile), pid);
  if (!pid.empty()) ::kill(std::stoi(pid), SIGTERM);
  ::pclose(follow);
  ASSERT_TRUE(got);
  auto e = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(e.is_discarded()) << line;
  EXPECT_EQ(e["reason"], "planned_detach");
  const std::int64_t switchedAt = e["wall_unix_us"].get<std::int64_t>() + e["trigger_to_tx_us"].get<std::int64_t>();
  const std::int64_t latencyUs = arrived - switchedAt;
  std::fprintf(stderr, "events --follow: switch printed %lld us after TX moved\n", static_cast<long long>(latencyUs));
  EXPECT_GE(latencyUs, 0);
  EXPECT_LT(latencyUs, 100'000);
}

TEST_F(Timeline, EventsSurviveARestartWithPersist) {
  ASSERT_TRUE(topo->startTvfd("    persist: true\n"));
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  // Saved on the control thread's 250 ms timer.
  const std::string saved = topo->dir() + "/events-tvf0.json";
  ASSERT_TRUE(Topology::waitFor([&] { return run("grep -c vf0 " + saved).out == "1\n"; }, 5s))
      << run("cat " + saved).out;
  topo->stopTvfd(SIGKILL);
  ASSERT_TRUE(topo->restartTvfd());
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  auto ev = events();
  ASSERT_GE(ev.size(), 1u) << ev.dump(1);
  EXPECT_EQ(ev[0]["seq"], 1);
  EXPECT_EQ(ev[0]["reason"], "attach");
  EXPECT_EQ(ev[0]["vf"], "vf0");
  // Numbering goes on from the saved events.
  topo->tvfctl("detach tvf0");
  ev = events();
  ASSERT_GE(ev.size(), 2u) << ev.dump(1);
  EXPECT_EQ(ev.back()["reason"], "planned_detach");
  EXPECT_EQ(ev.back()["seq"], ev.size());
}

}  // namespace
}  // namespace tvf::it
