// tvfd's shell: one control thread running an epoll loop over the netlink
// monitor, the control socket, a timerfd, a signalfd and each pair's
// datapath notify eventfd. It owns every pair and wires the failover
// engine to the kernel-facing implementations.
//
// Built in dependency order (netlink, claims, TAPs, datapaths, pairs,
// control socket) and torn down in reverse: stop the loop, join the
// workers, then release the backends.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ControlServer.hpp"
#include "EventBus.hpp"
#include "HookRunner.hpp"
#include "MetricsHttpServer.hpp"
#include "NetlinkLinkControl.hpp"
#include "NetlinkLinkMonitor.hpp"
#include "PacketAnnouncer.hpp"
#include "Pair.hpp"
#include "PairRouter.hpp"
#include "StatusReport.hpp"
#include "SwitchTimelineReport.hpp"
#include "TapDevice.hpp"
#include "WorkerDatapath.hpp"
#include "tvf/Config.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

// How the daemon opens ports; tvfd wires synthetic/ and vf/ in here.
struct PortOpeners {
  // (pair config, link, queue, queues) -> port
  std::function<Result<PortPtr>(const PairConfig&, const LinkInfo&, unsigned, unsigned)> synthetic;
  std::function<Result<PortPtr>(const PairConfig&, const LinkInfo&, unsigned, unsigned)> vf;
  // Finds a pair's synthetic among the links (by name or MAC).
  std::function<std::optional<LinkInfo>(const PairConfig&, const std::map<int, LinkInfo>&)> findSynthetic;
  bool verbsBuilt = false;
};

class Daemon {
 public:
  Daemon(Config config, std::string configPath, PortOpeners openers);
  ~Daemon();
  // Runs until SIGTERM/SIGINT. Returns the process exit code.
  int run();

 private:
  struct PairRuntime {
    PairConfig config;
    std::unique_ptr<TapDevice> tap;
    std::unique_ptr<WorkerDatapath> datapath;
    std::unique_ptr<PacketAnnouncer> announcer;
    std::unique_ptr<Pair> pair;
    std::vector<ControlServer::ClientId> detachWaiters;
    int syntheticIndex = 0;
    std::uint64_t savedSeq = 0;  // the timeline's last seq on file (persist: true)
  };

  Status setUp();
  Status setUpPair(const PairConfig& cfg);
  void tearDown();
  void loop();
  void onLinkEvent(const LinkEvent& e);
  void onControl(ControlServer::ClientId id, const nlohmann::json& req);
  void onSignal();
  void reload();
  void checkWaiters();
  void armTimer();
  void pollMulticast();
  void publishMetrics();
  std::string metrics() const;
  std::vector<NamedTimeline> timelines() const;
  std::string timelinePath(const std::string& pair) const;
  void saveTimelines();
  void watch(int fd, bool add);
  PairRuntime* findPair(const std::string& name);
  DaemonStats stats() const;
  std::vector<PairStatus> statuses() const;

  Config config_;
  std::string configPath_;
  PortOpeners openers_;
  std::shared_ptr<spdlog::logger> log_;
  SteadyClock clock_;
  EventBus bus_;
  UniqueFd epoll_, signals_, timer_;
  std::unique_ptr<NetlinkRequester> nl_;
  std::unique_ptr<NetlinkLinkControl> links_;
  std::unique_ptr<NetlinkLinkMonitor> monitor_;
  HookRunner hooks_;
  PairRouter router_;
  std::vector<std::unique_ptr<PairRuntime>> pairs_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MetricsHttpServer> metricsHttp_;  // null unless metrics_listen is set
  std::vector<LinkEvent> early_;  // link events seen before the pairs exist
  bool pairsReady_ = false;
  Clock::TimePoint nextMulticastPoll_{};
  bool running_ = true;
};

}  // namespace tvf
