// tvfd's shell: one control thread running an epoll loop over the netlink
// monitor, the control socket, a timerfd, a signalfd and each pair's
// datapath notify eventfd. It owns every pair and wires the failover
// engine to the kernel-facing implementations.
//
// Built in dependency order (netlink, claims, TAPs, datapaths, pairs,
// control socket) and torn down in reverse: stop the loop, join the
// workers, then release the backends.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/ControlCommands.hpp"
#include "src/ControlServer.hpp"
#include "failover/EventBus.hpp"
#include "src/HookRunner.hpp"
#include "src/NetlinkLinkControl.hpp"
#include "src/NetlinkLinkMonitor.hpp"
#include "src/PacketAnnouncer.hpp"
#include "src/PathProbe.hpp"
#include "failover/Pair.hpp"
#include "failover/PairRouter.hpp"
#include "protocol/StatusReport.hpp"
#include "src/TapDevice.hpp"
#include "src/MetricsHttpServer.hpp"
#include "protocol/SwitchTimelineReport.hpp"
#include "tvf/Config.hpp"
#include "tvf/Datapath.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

class Daemon final : public CommandTarget {
 public:
  // `datapaths` builds each pair's datapath (the composition root picks the
  // implementation; tests can hand in their own).
  Daemon(Config config, std::string configPath, DatapathFactoryPtr datapaths);
  ~Daemon() override;
  // Runs until SIGTERM/SIGINT. Returns the process exit code.
  int run();

 private:
  struct PairRuntime {
    PairConfigPtr config;  // the snapshot the pair and its announcer share
    std::unique_ptr<TapDevice> tap;
    DatapathPtr datapath;
    std::unique_ptr<PacketAnnouncer> announcer;
    std::unique_ptr<PathProbe> probe;  // before the pair, which uses it until its end
    std::unique_ptr<Pair> pair;
    std::uint64_t savedSeq = 0;  // the timeline's last seq on file (persist: true)
    // The text of each state file as last written (writeStateFile).
    std::string holdOnFile;      // hold-PAIR.json
    std::string intentOnFile;    // intent-PAIR.json: the TAP's operator choices
    std::string countersOnFile;  // counters-PAIR.json
    // counters-PAIR.json was read (or absent): only then may it be written.
    bool countersRestored = false;
  };

  Status setUp();
  // Takes each pair's locks (its name, its synthetic's MAC: InstanceLock.hpp).
  Status lockPairs();
  Status setUpPair(const PairConfig& cfg);
  void tearDown();
  void loop();
  // Writes `text` to `path` (atomically) when it differs from `onFile`, then
  // records it there whether or not the write worked: a failure is logged
  // once per change. `what` names the file in that log line.
  void writeStateFile(std::string& onFile, const std::string& path, std::string text, std::string_view what,
                      const std::string& pair);
  // hold-PAIR.json: the planned detach's hold and the VF `tvfctl attach
  // PAIR IFNAME` named, both kept across a restart.
  static std::string holdJson(const std::string& pair, bool held, const std::optional<std::string>& attachOnly);
  // A state file's JSON (a discarded value when it is not JSON); nullopt
  // when there is none, or when it cannot be read (logged, with `what`).
  std::optional<nlohmann::json> readStateJson(const std::string& path, std::string_view what, const std::string& pair);
  void onLinkEvent(const LinkEvent& e);
  void onControl(ControlServer::ClientId id, const nlohmann::json& req);
  void onSignal();
  Result<std::vector<std::string>> reload() override;
  void checkWaiters();
  void armTimer();
  void pollMulticast();
  void publishMetrics();
  std::vector<NamedTimeline> timelines() const;
  // The control socket's directory: claim records, holds, timelines, the lock.
  std::filesystem::path stateDir() const;
  std::string timelinePath(const std::string& pair) const;
  void saveTimelines();
  // A planned detach's hold, kept on file so that a restart (kill -9 or
  // SIGTERM) keeps TX on the synthetic until tvfctl attach.
  std::string holdPath(const std::string& pair) const;
  // intent-PAIR.json: the operator's choices on a persistent tvf0 (TapDevice::intentJson).
  std::string intentPath(const std::string& pair) const;
  void saveIntents();
  // counters-PAIR.json (persist: true): the per-path counters as the status
  // shows them, so that they never go backwards across a restart. Written
  // at exit (`atExit`), and on the 250 ms tick for pairs whose counters die
  // with the daemon (the user datapath's workers); the kernel datapath's
  // maps outlive a kill -9 and are adopted, so their totals go on file only
  // when a clean exit removes them (a periodic copy would count them twice).
  std::string countersPath(const std::string& pair) const;
  void saveCounters(bool atExit);
  void saveHolds();
  // The synthetic's identity across RTM_DELLINK/RTM_NEWLINK: a pair whose
  // synthetic left takes the link that matches its synthetic spec again.
  bool isReturningSynthetic(const PairRuntime& rt, const LinkInfo& link) const;
  void adoptSynthetic(PairRuntime& rt, const LinkInfo& link);
  void watch(int fd, bool add);
  PairRuntime* findPair(const std::string& name);
  DaemonStats stats() const;
  std::vector<PairStatus> statuses() const;
  const PairRuntime& pairNamed(const std::string& name) const;

  // CommandTarget: what control commands act on.
  nlohmann::json status() override;
  std::string metrics() override;
  std::vector<std::string> pairNames() const override;
  PairState plannedDetach(const std::string& pair) override;
  bool detachComplete(const std::string& pair) const override;
  PairState pairState(const std::string& pair) const override;
  Status requestAttach(const std::string& pair, const std::optional<std::string>& ifname) override;
  Status resync() override;
  nlohmann::json events(const std::optional<std::string>& pair, const nlohmann::json& after) override;

  Config config_;
  std::string configPath_;
  DatapathFactoryPtr datapaths_;
  std::shared_ptr<spdlog::logger> log_;
  UniqueFd stateLock_;  // held from setUp to exit (InstanceLock.hpp)
  std::map<std::string, std::vector<UniqueFd>> pairLocks_;  // pair -> its locks, held to exit
  SteadyClock clock_;
  EventBus bus_;
  UniqueFd epoll_, signals_, timer_;
  std::unique_ptr<NetlinkRequester> nl_;
  std::unique_ptr<NetlinkLinkControl> links_;
  std::unique_ptr<NetlinkLinkMonitor> monitor_;
  HookRunner hooks_;
  std::map<int, PairRuntime*> probeFds_;  // a PathProbe's listening socket -> its pair
  PairRouter router_;
  std::vector<std::unique_ptr<PairRuntime>> pairs_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MetricsHttpServer> metricsHttp_;  // null unless metrics_listen is set
  ControlCommands commands_{*this};
  std::vector<LinkEvent> early_;  // link events seen before the pairs exist
  bool pairsReady_ = false;
  Clock::TimePoint nextMulticastPoll_{};
  bool running_ = true;
  std::map<std::pair<std::string, std::string>, std::uint64_t> switchesTo_;  // (pair, path) -> switches
  // Last: they disconnect before the rest of the daemon goes.
  boost::signals2::scoped_connection waitersConnection_;
  boost::signals2::scoped_connection switchesConnection_;
};

}  // namespace tvf
