// metrics_listen: the real tvfd serves GET /metrics over HTTP; a real
// Prometheus parser (python3-prometheus-client) reads it; the text follows
// the datapath; a scraper that stalls does not stall the control socket.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <fstream>

#include "Topology.hpp"

namespace tvf::it {
namespace {

using namespace std::chrono_literals;

const std::string kListen = "127.0.0.1:9417";

class MetricsHttp : public TopologyTest {
 protected:
  // Scrapes from inside the guest namespace (tvfd's loopback).
  nlohmann::json scrape(const std::string& path = "/metrics") {
    auto r = topo->inGuest("/usr/bin/python3 " + tool("scrape_metrics.py") + " http://" + kListen + path);
    if (r.status != 0) {
      lastError_ = r.out;
      return nullptr;
    }
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
  }
  static std::string tool(const std::string& name) {
    return std::string(TVF_SOURCE_DIR) + "/tests/integration/tools/" + name;
  }
  std::string lastError_;
};

TEST_F(MetricsHttp, ScrapeParsesAndFollowsTheSwitch) {
  // A top-level key after the pair's keys ends the pairs sequence.
  ASSERT_TRUE(topo->startTvfd("metrics_listen: " + kListen + "\n"));
  auto m = scrape();
  ASSERT_FALSE(m.is_null()) << lastError_ << topo->tvfdLog();
  EXPECT_EQ(m["status"], 200);
  EXPECT_EQ(m["content_type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_GE(m["families"].get<int>(), 10);
  EXPECT_GE(m["samples"].get<int>(), 20);
  EXPECT_EQ(m["values"]["tvf_active_path{pair=tvf0,path=synthetic}"], 1.0) << m.dump(1);
  // Which datapath the pair runs, with the reason as a label.
  int datapathSamples = 0;
  for (const auto& [key, value] : m["values"].items()) {
    if (key.rfind("tvf_pair_datapath{", 0) != 0) continue;
    ++datapathSamples;
    EXPECT_NE(key.find("{mode=" + datapathMode() + ",pair=tvf0,reason="), std::string::npos) << key;  // labels sorted
    EXPECT_EQ(value, 1.0) << key;
  }
  EXPECT_EQ(datapathSamples, 1) << m.dump(1);
  EXPECT_TRUE(m["values"].contains("tvf_kernel_fallbacks_total{pair=tvf0}")) << m.dump(1);
  EXPECT_EQ(m["values"]["tvf_egress_mirror{pair=tvf0}"], 0.0) << m.dump(1);

  // The HTTP text is refreshed by the control thread: a VF attach shows up.
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  nlohmann::json after;
  EXPECT_TRUE(Topology::waitFor(
      [&] {
        after = scrape();
        return !after.is_null() && after["values"].value("tvf_active_path{pair=tvf0,path=vf}", 0.0) == 1.0;
      },
      5s))
      << after.dump(1) << lastError_;
  EXPECT_GE(after["values"].value("tvf_switches_total{pair=tvf0}", 0.0), 1.0) << after.dump(1);

  // Only /metrics is served.
  EXPECT_TRUE(scrape("/other").is_null());
  EXPECT_NE(lastError_.find("HTTP Error 404"), std::string::npos) << lastError_;
}

// What is not a GET of /metrics: HEAD gets a GET's headers and no body, other
// methods 405 with Allow, a request that does not parse or is too large 400,
// and the server goes on serving.
TEST_F(MetricsHttp, AnswersHeadAndRefusesOtherMethodsAndJunk) {
  ASSERT_TRUE(topo->startTvfd("metrics_listen: " + kListen + "\n"));
  ASSERT_TRUE(Topology::waitFor([&] { return !scrape().is_null(); }, 10s)) << lastError_;
  auto ask = [&](const std::string& request) {
    auto r = topo->inGuest("/usr/bin/python3 " + tool("http_ask.py") + " 127.0.0.1 9417 \"" + request + "\"");  // inGuest quotes with ''
    EXPECT_EQ(r.status, 0) << request << ": " << r.out;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
  };
  const std::string end = "Host: x\\r\\nConnection: close\\r\\n\\r\\n";
  auto get = ask("GET /metrics HTTP/1.1\\r\\n" + end);
  ASSERT_EQ(get["status"], 200) << get.dump();
  auto head = ask("HEAD /metrics HTTP/1.1\\r\\n" + end);
  EXPECT_EQ(head["status"], 200) << head.dump();
  EXPECT_EQ(head["body_bytes"], 0) << head.dump();
  EXPECT_GT(std::stoul(head["headers"].value("content-length", "0")), 1000u) << head.dump();
  auto post = ask("POST /metrics HTTP/1.1\\r\\nContent-Length: 0\\r\\n" + end);
  EXPECT_EQ(post["status"], 405) << post.dump();
  EXPECT_EQ(post["headers"].value("allow", ""), "GET, HEAD") << post.dump();
  EXPECT_EQ(ask("BLAH\\r\\n\\r\\n")["status"], 400);
  EXPECT_EQ(ask("GET /metrics HTTP/1.1\\r\\nX-Big: " + std::string(10000, 'a') + "\\r\\n" + end)["status"], 400);
  // And a scrape after all that is served as before.
  auto m = scrape();
  ASSERT_FALSE(m.is_null()) << lastError_;
  EXPECT_EQ(m["status"], 200) << m.dump(1);
}

// Scrapers holding connections open cannot take the descriptors that
// failover needs: tvfd under a limit of 96 descriptors, 100 clients each
// holding half a request, a VF plugged meanwhile is attached. (Before the
// server's connection cap, each client took a descriptor until its 5 s
// timeout, and the attach failed with EMFILE.)
TEST_F(MetricsHttp, ScrapersHoldingConnectionsLeaveTheDescriptorsFailoverNeeds) {
  ASSERT_TRUE(topo->startTvfd("metrics_listen: " + kListen + "\n", true, "prlimit --nofile=96:96"));
  const std::string log = topo->dir() + "/hold.out";
  topo->inGuest("/usr/bin/python3 " + tool("tcp_hold.py") + " stall 127.0.0.1 9417 30 100 >" + log + " 2>&1 &");
  ASSERT_TRUE(Topology::waitFor([&] { return run("cat " + log).out == "ready\n"; }, 10s)) << run("cat " + log).out;
  topo->addVf("vf0");
  EXPECT_TRUE(topo->waitForState("active", "vf")) << topo->status().dump() << topo->tvfdLog();
  EXPECT_EQ(topo->tvfctl("status").status, 0);
  EXPECT_EQ(topo->tvfdLog().find("Too many open files"), std::string::npos) << topo->tvfdLog();
}

// A scrape's socket is accepted without SOCK_CLOEXEC (Asio marks it after
// the accept): an on_switch hook started while a scrape is connected must still get none
// of them (nor any other socket of tvfd's).
TEST_F(MetricsHttp, AnOnSwitchHookInheritsNoSocketOfAScrape) {
  const std::string hook = topo->dir() + "/hook.sh", fds = topo->dir() + "/hook.fds";
  std::ofstream(hook) << "#!/bin/sh\nls -l /proc/$$/fd >> " << fds << "\necho done >> " << fds << "\n";
  ::chmod(hook.c_str(), 0755);
  ASSERT_TRUE(topo->startTvfd("    on_switch: " + hook + "\nmetrics_listen: " + kListen + "\n"));
  const std::string log = topo->dir() + "/stall.out";
  topo->inGuest("/usr/bin/python3 " + tool("tcp_hold.py") + " stall 127.0.0.1 9417 4 >>" + log + " 2>&1 &");
  ASSERT_TRUE(Topology::waitFor([&] { return run("grep -c ready " + log).out == "1\n"; }, 5s))
      << run("cat " + log).out;
  topo->addVf("vf0");
  ASSERT_TRUE(topo->waitForState("active", "vf"));
  ASSERT_TRUE(Topology::waitFor([&] { return run("grep -c done " + fds).out == "1\n"; }, 5s));
  const auto listing = run("cat " + fds).out;
  EXPECT_EQ(listing.find("socket:"), std::string::npos) << listing;
}

TEST_F(MetricsHttp, AStalledScraperDoesNotBlockTheControlSocket) {
  ASSERT_TRUE(topo->startTvfd("metrics_listen: " + kListen + "\n"));
  // Two clients send half a request and hold on until their read timeout
  // (5 s). Each client reports on a file of its own.
  const std::string log = topo->dir() + "/stall";
  topo->inGuest("for i in 1 2; do /usr/bin/python3 " + tool("tcp_hold.py") + " stall 127.0.0.1 9417 4 >" + log +
                ".$i.out 2>&1 & done");
  ASSERT_TRUE(Topology::waitFor([&] { return run("cat " + log + ".1.out " + log + ".2.out").out == "ready\nready\n"; },
                                5s))
      << run("cat " + log + ".*.out").out;
  const auto t0 = std::chrono::steady_clock::now();
  auto status = topo->tvfctl("status --json");
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(status.status, 0) << status.out;
  EXPECT_LT(took, 1s) << "tvfctl status took "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  // And HTTP serves again once the stalled clients are gone.
  nlohmann::json m;
  EXPECT_TRUE(Topology::waitFor([&] { return !(m = scrape()).is_null(); }, 15s)) << lastError_;
}

TEST_F(MetricsHttp, ABadOrBusyAddressIsAStartupError) {
  {
    std::ofstream f(topo->dir() + "/bad.yaml");
    f << "metrics_listen: localhost:9417\npairs:\n  - name: tvf0\n    synthetic: eth0\n";
  }
  auto check = run(std::string(TVFD_PATH) + " --check --config " + topo->dir() + "/bad.yaml");
  EXPECT_EQ(check.status, 2) << check.out;
  EXPECT_NE(check.out.find("metrics_listen: expected IPv4:PORT or [IPv6]:PORT"), std::string::npos) << check.out;
  // Port taken: tvfd refuses to start and says why.
  const std::string log = topo->dir() + "/squat.out";
  topo->inGuest("/usr/bin/python3 " + tool("tcp_hold.py") + " squat 127.0.0.1 9417 30 >" + log +
                " 2>&1 & echo $! >" + topo->dir() + "/squat.pid");
  ASSERT_TRUE(Topology::waitFor([&] { return run("cat " + log).out == "ready\n"; }, 5s)) << run("cat " + log).out;
  EXPECT_FALSE(topo->startTvfd("metrics_listen: " + kListen + "\n"));
  EXPECT_NE(topo->tvfdLog().find("metrics_listen: bind 127.0.0.1:9417: Address already in use"), std::string::npos)
      << topo->tvfdLog();
  run("kill $(cat " + topo->dir() + "/squat.pid)");
}

}  // namespace
}  // namespace tvf::it
