// The systemd unit's system call filter is enough for what tvfd does: the
// real tvfd runs under strace through an attach, a planned detach and
// attach, a surprise removal, a reload, an HTTP scrape and a stop; every
// system call it made must be allowed by the unit's SystemCallFilter=
// (expanded by systemd-analyze). The capability set has its own test
// (Operations.ServiceCapabilitySetIsEnough).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>

#include "Topology.hpp"

namespace tvf::it {
namespace {

using namespace std::chrono_literals;

class ServiceSandbox : public TopologyTest {};

TEST_F(ServiceSandbox, EverySystemCallIsInTheUnitsFilter) {
  if (run("command -v strace").status != 0) GTEST_SKIP() << "strace is not installed (scripts/setup.sh installs it)";
  if (run("systemd-analyze syscall-filter @system-service").status != 0)
    GTEST_SKIP() << "systemd-analyze cannot list system call groups here";
  const std::string trace = topo->dir() + "/strace.out";
  ASSERT_TRUE(topo->startTvfd("metrics_listen: 127.0.0.1:9417\n", true, "strace -f -qq -o " + trace));
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_EQ(topo->tvfctl("detach tvf0 --wait").status, 0);
  EXPECT_EQ(topo->tvfctl("attach tvf0").status, 0);
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  EXPECT_EQ(topo->tvfctl("reload").status, 0);
  auto scrape = topo->inGuest("/usr/bin/python3 " + std::string(TVF_SOURCE_DIR) +
                              "/tests/integration/tools/scrape_metrics.py http://127.0.0.1:9417/metrics");
  EXPECT_EQ(scrape.status, 0) << scrape.out;
  topo->delVf("vf0");
  ASSERT_TRUE(topo->waitForState("novf", "synthetic"));
  // Stop tvfd itself (strace's child) so its teardown is traced too.
  ASSERT_EQ(run("kill -TERM $(pgrep -P " + std::to_string(topo->tvfdPid()) + ")").status, 0);
  EXPECT_TRUE(Topology::waitFor([&] { return run("pgrep -P " + std::to_string(topo->tvfdPid())).status != 0; }, 10s));
  topo->stopTvfd();

  auto r = run("python3 " + std::string(TVF_SOURCE_DIR) + "/tests/integration/tools/syscalls_outside_filter.py " +
               TVF_SOURCE_DIR + "/conf/systemd/tvfd.service " + trace);
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_GE(j["used"].size(), 30u) << r.out;  // the trace really covers tvfd
  EXPECT_TRUE(j["outside"].empty()) << "system calls the unit's filter would refuse: " << j["outside"].dump();
  std::fprintf(stderr, "tvfd used %zu distinct system calls, all within the unit's filter\n", j["used"].size());
}

}  // namespace
}  // namespace tvf::it
