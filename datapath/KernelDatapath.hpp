// The kernel datapath: frames move in the kernel, the daemon is the control
// plane. tvf0's tc egress program redirects each frame to the active
// backend (a slot in a map the daemon writes on a switch; the backends sit
// in a DEVMAP whose VF entry the kernel clears when the VF unregisters, so
// the fallback to the synthetic happens before the daemon hears of it).
// Every claimed backend's tc ingress program redirects to tvf0 with
// BPF_F_INGRESS, so the stack sees the frame arrive on tvf0. The programs
// and their loader are datapath/kernel/TcRedirect; the ingress hook belongs
// to the claim (IngressHooks), which runs the redirect in its drop's place.
//
// No worker thread and no packet socket: the only fds are an eventfd for
// retirement and the TAP's queues, which carry frames only while mirroring
// (a packet socket such as tcpdump's is bound to tvf0: egress redirected at
// tc never reaches tvf0's own tap point, so a marked clone of each frame is
// sent through tvf0 and read here and discarded).
//
// Counters: per slot from the programs' per-CPU map (tx = tvf0 -> backend,
// rx = backend -> tvf0), never backwards across a detach or a restart (the
// maps are adopted); frames mirrored.
//
// Thread: the control thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/StateFile.hpp"
#include "base/UniqueFd.hpp"
#include "datapath/kernel/TcRedirect.hpp"
#include "tvf/Datapath.hpp"
#include "tvf/IngressHooks.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

class KernelDatapath final : public Datapath {
 public:
  // `queueFds`: the TAP's queue fds (borrowed): read only to discard
  // mirrored frames. `programs`: loaded (maybe adopted) for this pair.
  KernelDatapath(std::string name, int tapIfindex, std::vector<int> queueFds, TcRedirectPtr programs,
                 IngressHooks& hooks, std::string reason);
  ~KernelDatapath() override;

  Status start(const LinkInfo& synthetic) override;
  void stop() override;
  Status replaceSynthetic(const LinkInfo& synthetic) override;
  Result<BackendFeatures> probeVf(const LinkInfo& vf) override;
  Status openVfPort(const LinkInfo& vf, std::uint64_t generation) override;
  void switchTx(PathKind path) override;
  void retireVfPort() override;
  bool hasVfPort() const override { return vf_.has_value(); }
  PathCounters liveCounters(PathKind path) const override;
  PathCounters unclaimedVfCounters() const override;
  std::string vfMechanism() const override { return vf_ ? "kernel" : ""; }
  DatapathStatus describe() const override;
  int eventFd() const override { return epoll_.get(); }
  DatapathEvents drainEvents() override;

  // Turns mirroring for tcpdump on while a packet socket is bound to tvf0
  // (/proc/net/packet), off when none is.
  void refresh() override;

 private:
  PathCounters slotCounters(RedirectSlot slot) const;
  void discardTapFrames();

  std::string name_;
  int tapIfindex_;
  std::vector<int> queueFds_;
  TcRedirectPtr programs_;
  IngressHooks& hooks_;
  std::string reason_;
  UniqueFd epoll_;   // the eventfd and the TAP queues: what the control loop watches
  UniqueFd notify_;  // retirement completed
  int syntheticIndex_ = 0;
  std::optional<LinkInfo> vf_;
  PathCounters vfBase_;  // the VF slot's counters when this VF's port opened
  int vfPortsOpened_ = 0;
  std::optional<PathCounters> retired_;
  bool mirror_ = false;
  // refresh()'s pause before it tries to re-attach tvf_egress again.
  RetryBackoff egressRetry_;
  std::uint64_t mirrored_ = 0;
  std::shared_ptr<spdlog::logger> log_;
};

// Sockets of AF_PACKET bound to `ifindex` in this network namespace
// (/proc/net/packet's Iface column).
int packetSocketsOn(int ifindex);

}  // namespace tvf
