// The integration tests' namespace topology (scripts/topology.sh) and a
// real tvfd running in the guest namespace. Every instance makes uniquely
// named namespaces and deletes them in its destructor, also on failure.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

namespace tvf::it {

struct CommandResult {
  int status = -1;
  std::string out;  // stdout and stderr together
};

// Runs a shell command; returns its exit status and output.
CommandResult run(const std::string& cmd);
// The datapath mode the suite runs in: $TVF_IT_DATAPATH (kernel | user |
// kernel/clsact), "user" when unset.
std::string datapathMode();
// Where the kernel datapath attaches: what follows the slash in
// $TVF_IT_DATAPATH (kernel/clsact), "auto" without one.
std::string tcHookMode();

inline bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}
// The state ("on" / "off") of feature `name` in `ethtool -k` output; "?"
// when it is not listed.
std::string ethtoolFeature(const std::string& ethtoolK, const std::string& name);

class Topology {
 public:
  explicit Topology(int mtu = 1500);
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  bool ok() const { return ok_; }
  const std::string& prefix() const { return prefix_; }
  std::string host() const { return prefix_ + "-h"; }
  std::string guest() const { return prefix_ + "-g"; }
  std::string dir() const { return dir_; }
  std::string socket() const { return dir_ + "/tvf.sock"; }

  // Runs `cmd` inside the guest / host namespace.
  CommandResult inGuest(const std::string& cmd) const;
  CommandResult inHost(const std::string& cmd) const;

  void addVf(const std::string& name) const;
  void delVf(const std::string& name) const;

  // Starts tvfd with a pair "tvf0" on eth0; `pairExtra` is appended to the
  // pair's YAML (indented keys, e.g. "    attach_wait_ms: 300\n").
  // `launcher` wraps the command (e.g. a setpriv with fewer capabilities).
  bool startTvfd(const std::string& pairExtra = "", bool configureTap = true, const std::string& launcher = "");
  // Starts tvfd again on the same config (after a kill), keeping the TAP.
  bool restartTvfd();
  void stopTvfd(int signal = 15);
  int tvfdPid() const;
  bool tvfdRunning() const;
  std::string tvfdLog() const;

  nlohmann::json status() const;  // the first pair's status, or null
  nlohmann::json statusAll() const;
  CommandResult tvfctl(const std::string& args) const;

  // Polls `pred` every 20 ms until it holds or `timeout` passes.
  static bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout);
  // Waits (10 s at most) until `cmd` run in the guest prints / no longer
  // prints `needle`.
  bool guestShows(const std::string& cmd, const std::string& needle) const;
  bool guestLacks(const std::string& cmd, const std::string& needle) const;
  // Waits (10 s at most) until a socket listens on `port` in the host's
  // (or the guest's) namespace: `proto` "tcp" or "udp".
  bool waitForListener(bool host, const std::string& proto, int port) const;
  // Every tc program on a guest device's `dir` hook ("ingress" | "egress"):
  // the tcx hook's program names ("tcx NAME" lines), then tc(8)'s listing
  // of the clsact filters.
  std::string guestTcPrograms(const std::string& dev, const std::string& dir) const;
  bool waitForState(const std::string& state, const std::string& active,
                    std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;
  // Waits until tvfd's log holds `needle` (10 s at most).
  bool waitForLog(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Waits until the first pair's status counter `path`.`counter` (e.g.
  // "vf", "tx_packets") reaches `atLeast`: traffic is under way on that
  // path (15 s at most).
  bool waitForCounter(const std::string& path, const std::string& counter, std::uint64_t atLeast,
                      std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;

 private:
  std::string prefix_;
  std::string dir_;
  bool spawnTvfd();
  // Fails the running test with every sanitizer report tvfd left in dir_.
  void checkSanitizerReports() const;
  bool ok_ = false;
  pid_t tvfd_ = -1;
  std::string launcher_;
};

// Skips the test unless the process may create namespaces (root).
#define TVF_REQUIRE_NETADMIN()                                                      \
  do {                                                                              \
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_NET_ADMIN) for netns"; \
  } while (0)

// The fixture every integration test uses: a fresh topology per test (or
// one the test makes with make()), and tvfd's log printed when it failed.
// Moves the calling thread into a network namespace (by its name under
// /run/netns) for the guard's lifetime, then back: for tests that open
// devices or sockets themselves in a topology's namespace.
class NetnsGuard {
 public:
  explicit NetnsGuard(const std::string& name)
      : home_(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) {
    const int target = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    ok_ = home_ >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
    if (target >= 0) ::close(target);
  }
  ~NetnsGuard() {
    if (home_ >= 0) {
      if (ok_) (void)::setns(home_, CLONE_NEWNET);
      ::close(home_);
    }
  }
  bool ok() const { return ok_; }

 private:
  int home_;
  bool ok_ = false;
};

class TopologyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TVF_REQUIRE_NETADMIN();
    if (makeInSetUp_) make();
  }
  void TearDown() override {
    if (HasFailure() && topo) std::fprintf(stderr, "---- tvfd log ----\n%s\n", topo->tvfdLog().c_str());
    topo.reset();
  }
  void make(int mtu = 1500) {
    topo = std::make_unique<Topology>(mtu);
    ASSERT_TRUE(topo->ok());
  }
  bool makeInSetUp_ = true;
  std::unique_ptr<Topology> topo;
};

}  // namespace tvf::it
