// How a pair's frames move between the TAP and its backends. Two
// implementations: the user datapath (datapath/WorkerDatapath: worker
// threads relaying through Ports) and the kernel datapath (tc-BPF
// redirect, the daemon as control plane). datapath/DatapathFactory picks
// one per pair; failover/Pair drives either through this interface.
//
// Thread: every method is called on the control thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tvf/Backend.hpp"
#include "tvf/Config.hpp"
#include "tvf/IngressHooks.hpp"
#include "tvf/LinkEvent.hpp"
#include "tvf/PairStatus.hpp"
#include "tvf/PathCounters.hpp"
#include "tvf/Result.hpp"

namespace tvf {

// What a datapath reports to its pair, drained on the control thread.
struct DatapathEvents {
  std::vector<std::pair<std::uint64_t, int>> vfPortErrors;  // generation, errno
  std::optional<PathCounters> vfRetired;                     // final counters of the retired VF port
};

class Datapath {
 public:
  virtual ~Datapath() = default;
  // Opens the synthetic's ports and starts moving frames (TX on the
  // synthetic). Errors: the synthetic backend's open errors.
  virtual Status start(const LinkInfo& synthetic) = 0;
  // Stops moving frames; joins any threads. Idempotent.
  virtual void stop() = 0;
  // The synthetic came back as `synthetic` (re-created with a new ifindex,
  // or moved out of the namespace and back): its side of the datapath moves
  // to it (the user datapath reopens its ports; the kernel datapath points
  // the synthetic slot and its ingress hook at it). The VF side and the TX
  // path are kept. Errors: the synthetic backend's open errors (the old
  // side is kept then).
  virtual Status replaceSynthetic(const LinkInfo& synthetic) = 0;

  // What the VF's backend can carry on `vf` (feature negotiation): it
  // enters tvf0's offloads before they are set. Errors: the VF backend
  // cannot be had (EOPNOTSUPP, ENODEV, EINVAL).
  virtual Result<BackendFeatures> probeVf(const LinkInfo& vf) = 0;
  // Opens the VF's ports (one per queue) for what probeVf negotiated; RX
  // starts at once. `generation` tags port errors so late ones about an
  // older VF are dropped. Errors: EBUSY (a VF port is still open), the
  // backend's open errors.
  virtual Status openVfPort(const LinkInfo& vf, std::uint64_t generation) = 0;
  // Publishes the TX path (atomic; takes effect on the next frame/batch).
  virtual void switchTx(PathKind path) = 0;
  // Stops using the VF's ports. Completion (every frame in flight past a
  // quiescent point) is reported later through drainEvents().vfRetired.
  virtual void retireVfPort() = 0;
  virtual bool hasVfPort() const = 0;
  // Counters of the live ports (the VF port's since it was opened).
  virtual PathCounters liveCounters(PathKind path) const = 0;
  // VF-path counts no VF port of this run has taken over: the kernel
  // datapath's VF slot in maps adopted from a run killed with its VF up,
  // before (or without: the VF left meanwhile) this run's first VF port.
  virtual PathCounters unclaimedVfCounters() const { return {}; }
  // The VF backend's mechanism ("packet", "verbs"), "" without a VF port.
  virtual std::string vfMechanism() const = 0;
  // How this datapath runs, for status and metrics.
  virtual DatapathStatus describe() const = 0;

  // A pollable fd (readable when events wait) that the control loop
  // watches, and the events behind it.
  virtual int eventFd() const = 0;
  virtual DatapathEvents drainEvents() = 0;
  // Called about every 250 ms on the control thread (the kernel datapath
  // checks for packet sockets on tvf0 here).
  virtual void refresh() {}
};

using DatapathPtr = std::unique_ptr<Datapath>;

// What one pair's datapath is made from.
struct DatapathSpec {
  PairConfig config;
  int tapIfindex = 0;
  std::vector<int> queueFds;  // the TAP's queue fds (borrowed from the TapDevice)
  int workerPriority = 0;     // the user datapath's SCHED_FIFO priority, 0 = ordinary threads
  IngressHooks* ingress = nullptr;  // the owner of the backends' ingress hooks (the claim)
};

// Picks and builds the datapath of each pair (datapath/DatapathFactory).
class DatapathFactory {
 public:
  virtual ~DatapathFactory() = default;
  // Errors: what the configured datapath needs and lacks.
  virtual Result<DatapathPtr> make(const DatapathSpec& spec) = 0;
  // True when the verbs backend was built in (for status's hardware note).
  virtual bool verbsBuilt() const = 0;
};

using DatapathFactoryPtr = std::unique_ptr<DatapathFactory>;

}  // namespace tvf
