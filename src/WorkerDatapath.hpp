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
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "SpscRing.hpp"
#include "UniqueFd.hpp"
#include "tvf/Config.hpp"
#include "tvf/PairEnvironment.hpp"
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

// Opens the port of `queue` on a netdev (PacketSocketPort, VerbsRawPort...).
using PortOpener = std::function<Result<PortPtr>(const LinkInfo& link, unsigned queue, unsigned queues)>;

struct DatapathEvents {
  std::vector<std::pair<std::uint64_t, int>> vfPortErrors;  // generation, errno
  std::optional<PathCounters> vfRetired;                     // final counters
};

class DatapathWorker;

class WorkerDatapath final : public Datapath {
 public:
  // `queueFds`: one TAP queue fd per queue (borrowed; a socketpair in
  // unit tests). `name` is for logs. `workerPriority`: 0 runs the workers
  // as ordinary threads, 1..99 at that SCHED_FIFO priority.
  WorkerDatapath(std::string name, std::vector<int> queueFds, PortOpener syntheticOpener,
                 PortOpener vfOpener, int workerPriority = 0);
  ~WorkerDatapath() override;

  Status start(const LinkInfo& synthetic);
  void stop();

  Status openVfPort(const LinkInfo& vf, std::uint64_t generation) override;
  void switchTx(PathKind path) override;
  void retireVfPort() override;
  bool hasVfPort() const override { return vfSet_ != nullptr; }
  PathCounters liveCounters(PathKind path) const override;
  std::string vfMechanism() const override;

  int notifyFd() const { return notify_.get(); }
  std::size_t workerCount() const { return workers_.size(); }
  // What the workers run at: "fifo:N", "other", or "other (fifo:N
  // refused: ...)" when the kernel said no.
  const std::string& scheduling() const { return scheduling_; }
  DatapathEvents onNotify();

  // Worker-side access.
  std::atomic<PortSet*> txSet{nullptr};
  PortSet* syntheticSet() const { return synthSet_.get(); }

 private:
  std::unique_ptr<PortSet> openSet(PathKind path, const LinkInfo& link, std::uint64_t generation,
                                   const PortOpener& opener, Status& st);
  void broadcast(int kind, PortSet* set);
  void applyScheduling();

  std::string name_;
  std::vector<int> queueFds_;
  PortOpener syntheticOpener_;
  PortOpener vfOpener_;
  int priority_;
  std::string scheduling_;
  UniqueFd notify_;
  std::unique_ptr<PortSet> synthSet_;
  std::unique_ptr<PortSet> vfSet_;
  bool retiring_ = false;
  std::uint64_t retireEpoch_ = 0;
  std::uint64_t epoch_ = 0;
  std::vector<std::unique_ptr<DatapathWorker>> workers_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace tvf
