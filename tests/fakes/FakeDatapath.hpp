// A datapath that records what the pair engine asked of it. Retirement
// completes when the test calls completeRetire(), as workers would.
#pragma once

#include <optional>
#include <vector>

#include "failover/EventBus.hpp"
#include "tvf/PairEnvironment.hpp"

namespace tvf::testing {

class FakeDatapath final : public Datapath {
 public:
  Status start(const LinkInfo&) override { return {}; }
  void stop() override {}
  Status replaceSynthetic(const LinkInfo& synthetic) override {
    syntheticIndex = synthetic.ifindex;
    return {};
  }
  // What the VF's backend negotiates; a test narrows it (a backend
  // without TSO) to see the TAP follow.
  Result<BackendFeatures> probeVf(const LinkInfo&) override {
    ++probes;
    if (failProbe) return Error{failProbe, "probe backend"};
    return vfBackend;
  }
  Status openVfPort(const LinkInfo& vf, std::uint64_t generation) override {
    if (failOpen) return Status::fail(failOpen, "open port");
    vfPort = vf.ifindex;
    portGeneration = generation;
    vfLive = {};
    ++opens;
    return {};
  }
  void switchTx(PathKind path) override {
    tx = path;
    switches.push_back(path);
  }
  void retireVfPort() override { retireRequested = true; }
  bool hasVfPort() const override { return vfPort.has_value(); }
  PathCounters liveCounters(PathKind path) const override {
    return path == PathKind::Vf ? vfLive : synthLive;
  }
  std::string vfMechanism() const override { return vfBackend.mechanism; }
  DatapathStatus describe() const override {
    DatapathStatus d;
    d.mode = "user";
    d.reason = "fake";
    d.workers = 1;
    d.scheduling = "other";
    return d;
  }
  int eventFd() const override { return -1; }
  DatapathEvents drainEvents() override { return {}; }

  // Finishes a retirement: returns the port's final counters.
  PathCounters completeRetire() {
    retireRequested = false;
    vfPort.reset();
    PathCounters last = vfLive;
    vfLive = {};
    return last;
  }

  std::optional<int> vfPort;
  int syntheticIndex = 0;  // the last replaceSynthetic's
  std::uint64_t portGeneration = 0;
  PathKind tx = PathKind::Synthetic;
  std::vector<PathKind> switches;
  bool retireRequested = false;
  int failOpen = 0;
  int failProbe = 0;
  int probes = 0;
  BackendFeatures vfBackend = BackendFeatures::full("packet");
  int opens = 0;
  PathCounters vfLive;
  PathCounters synthLive;
};

// Records what the pair asked the network to be told and which hooks ran,
// as the real announcer hears it: from the EventBus.
class FakeAnnouncer final {
 public:
  struct Call {
    PathKind path;
    unsigned count;
  };
  explicit FakeAnnouncer(EventBus& bus) {
    announce_ = bus.announceRequested.connect([this](const std::string&, PathKind path, int, unsigned count) {
      announcements.push_back({path, count});
    });
    switched_ = bus.datapathSwitched.connect([this](const std::string& pair, PathKind path, const std::string& ifname) {
      hooks.push_back(pair + " " + pathName(path) + " " + ifname);
    });
  }
  std::vector<Call> announcements;
  std::vector<std::string> hooks;

 private:
  boost::signals2::scoped_connection announce_;
  boost::signals2::scoped_connection switched_;
};

}  // namespace tvf::testing
