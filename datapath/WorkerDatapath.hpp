// The datapath behind one TAP: per queue, one worker thread that moves
// frames both ways (TAP -> active port, every open port -> TAP), owns its
// fds and buffers and never locks, allocates or logs per packet.
//
// Publication and retirement:
//  - the TX port set is an atomic pointer, read once per batch;
//  - commands (add/remove an RX port set, sync, stop) go to each worker
//    through a bounded SPSC ring plus an eventfd, applied between batches;
//  - every command carries an epoch; a worker acknowledges the highest
//    epoch it applied. A retired VF port set is freed only after every
//    worker acknowledged the retire epoch (a quiescent-state scheme).
//  - workers report port failures (ENXIO, ENETDOWN, ENODEV) through their
//    own SPSC ring and the shared notify eventfd.
//
// Thread: the control thread calls everything here; workers are private.
// Counters: per path and per queue (rx/tx packets, bytes, drops).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "datapath/SpscRing.hpp"
#include "base/UniqueFd.hpp"
#include "tvf/Config.hpp"
#include "tvf/Backend.hpp"
#include "tvf/Datapath.hpp"
#include "tvf/Port.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

// One direction's counters of one queue; each field has a single writer.
struct QueueCounters {
  std::atomic<std::uint64_t> rxPackets{0}, rxBytes{0}, rxDropped{0};
  alignas(64) std::atomic<std::uint64_t> txPackets{0}, txBytes{0}, txDropped{0};

  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t by = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
};

// One backend's ports, one per queue, with their counters.
struct PortSet {
  PathKind path = PathKind::Synthetic;
  std::uint64_t generation = 0;
  std::string ifname;
  std::vector<PortPtr> ports;
  std::unique_ptr<QueueCounters[]> counters;
  PathCounters snapshot() const;
};

class DatapathWorker;

class WorkerDatapath final : public Datapath {
 public:
  // `queueFds`: one TAP queue fd per queue (borrowed; a socketpair in
  // unit tests). `name` is for logs. `backends` opens the ports of each
  // side. `workerPriority`: 0 runs the workers as ordinary threads, 1..99
  // at that SCHED_FIFO priority. `reason`: why the pair runs this datapath.
  WorkerDatapath(std::string name, std::vector<int> queueFds, BackendRegistryPtr backends,
                 int workerPriority = 0, std::string reason = "");
  ~WorkerDatapath() override;

  Status start(const LinkInfo& synthetic) override;
  void stop() override;
  Status replaceSynthetic(const LinkInfo& synthetic) override;

  Result<BackendFeatures> probeVf(const LinkInfo& vf) override;
  Status openVfPort(const LinkInfo& vf, std::uint64_t generation) override;
  void switchTx(PathKind path) override;
  void retireVfPort() override;
  bool hasVfPort() const override { return vfSet_ != nullptr; }
  PathCounters liveCounters(PathKind path) const override;
  std::string vfMechanism() const override;
  DatapathStatus describe() const override;
  int eventFd() const override { return notify_.get(); }
  DatapathEvents drainEvents() override;

  std::size_t workerCount() const { return workers_.size(); }
  // What the workers run at: "fifo:N", "other", or "other (fifo:N
  // refused: ...)" when the kernel said no.
  const std::string& scheduling() const { return scheduling_; }

  // Worker-side access.
  std::atomic<PortSet*> txSet{nullptr};
  PortSet* syntheticSet() const { return synthSet_.get(); }

 private:
  std::unique_ptr<PortSet> openSet(PathKind path, const LinkInfo& link, std::uint64_t generation,
                                   Backend& backend, const BackendFeatures& features, Status& st);
  void broadcast(int kind, PortSet* set);
  void applyScheduling();
  // Starts one worker per TAP queue on synthSet_ (and the VF's ports, when
  // open and not retiring).
  void startWorkers();

  std::string name_;
  std::vector<int> queueFds_;
  BackendRegistryPtr backends_;
  // The VF backend probeVf chose and what it negotiated, for openVfPort.
  Backend* vfBackend_ = nullptr;
  BackendFeatures vfFeatures_;
  int priority_;
  std::string reason_;
  std::string scheduling_;
  UniqueFd notify_;
  std::unique_ptr<PortSet> synthSet_;
  PathCounters synthEarlier_;  // the counters of the synthetic's ports replaced so far
  std::unique_ptr<PortSet> vfSet_;
  bool retiring_ = false;
  std::uint64_t retireEpoch_ = 0;
  std::uint64_t epoch_ = 0;
  std::vector<std::unique_ptr<DatapathWorker>> workers_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace tvf
