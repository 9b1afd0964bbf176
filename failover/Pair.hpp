// One synthetic/VF pair: the engine that runs the transition table and
// executes its actions against LinkControl, TapFront and Datapath; what
// others act on (announcements, the on_switch hook, state changes) it
// emits on the EventBus. Control operations made on the TAP go to the backends
// through its TapMirror; VF candidates are kept in its CandidateSet.
//
// Thread: the control thread owns it; every public method checks that.
// Counters kept: switches, attach failures, illegal transitions, refused
// VFs, control-op rollbacks, per-path traffic (with the VF fold).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "failover/CandidateSet.hpp"
#include "failover/CounterAccumulator.hpp"
#include "failover/EventBus.hpp"
#include "failover/PairStateMachine.hpp"
#include "failover/SwitchTimeline.hpp"
#include "failover/TapMirror.hpp"
#include "base/ThreadOwner.hpp"
#include "tvf/Capabilities.hpp"
#include "tvf/Clock.hpp"
#include "tvf/Config.hpp"
#include "tvf/LinkEvent.hpp"
#include "tvf/PairEnvironment.hpp"
#include "tvf/PairState.hpp"
#include "tvf/PairStatus.hpp"

namespace spdlog {
class logger;
}

namespace tvf {

struct PairDeps {
  LinkControl& links;
  TapFront& tap;
  Datapath& datapath;
  const Clock& clock;
  EventBus& bus;
  // Optional: without it a fresh VF gets TX after the fixed takeover delay.
  PathProver* prover = nullptr;
};

class Pair {
 public:
  // `config`: the pair's configuration snapshot, shared with the daemon
  // and the announcer; a reload swaps it (reconfigure).
  Pair(PairConfigPtr config, PairDeps deps);
  Pair(PairConfig config, PairDeps deps);
  ~Pair();
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;

  // Takes the synthetic (already claimed by the caller) and the TAP's
  // current link state; applies the synthetic's capabilities to the TAP and
  // mirrors the TAP's MTU and flags to the synthetic.
  Status start(const LinkInfo& synthetic, const LinkInfo& tap);

  // Starts the pair held, as a planned detach left it before a restart
  // (the daemon keeps the hold on file): no VF attaches until
  // requestAttach. Call before start() and before any VF is offered.
  void startHeld();
  // Starts the pair taking only `ifname`, as `tvfctl attach PAIR IFNAME`
  // left it before a restart (kept with the hold). Call before any VF is
  // offered.
  void startAttachOnly(const std::string& ifname);
  // The VF `tvfctl attach PAIR IFNAME` named, while that choice stands.
  const std::optional<std::string>& attachOnly() const { return candidates_.preferred(); }
  // The backends the previous run had claimed (ifindex -> name), from its
  // records: the first VF found after a restart, if it is one of them by
  // ifindex and name, attaches at once, without attach_wait (that wait lets
  // a new VF settle: udev renames it, its driver finishes; this one had
  // already). Adds to an earlier call's. Call before any VF is offered.
  void resumeAfterRestart(const std::map<int, std::string>& claimedBefore);
  // The synthetic left the namespace (deleted, or moved away): tvf0 loses
  // carrier while TX is on it. The pair waits for it to come back.
  void onSyntheticRemoved();
  // The synthetic is back as `synthetic` (already claimed by the caller;
  // the datapath already moved to it): the pair takes it, applies its
  // capabilities to the TAP (unless the VF carries TX), and mirrors the
  // TAP's MTU, flags and multicast list to it as start() does.
  void replaceSynthetic(const LinkInfo& synthetic);
  bool syntheticGone() const { return syntheticGone_; }
  // Held by a planned detach (until requestAttach).
  bool held() const { return held_; }

  // A VF candidate (already matched by vf/VfMatcher) was added or changed.
  void onVfCandidate(const LinkInfo& vf);
  // Any link left the namespace.
  void onLinkRemoved(int ifindex);
  // The synthetic, the TAP or the VF changed (carrier, MTU, flags, features).
  void onLinkChanged(const LinkInfo& link);
  // The TAP's link-layer multicast list changed.
  void onTapMulticast(const std::vector<MacAddress>& groups);
  // A worker reported a path failure on the VF port of `generation`.
  void onPortError(std::uint64_t generation, int err);
  // Every worker stopped using the VF port; its final counters.
  void onVfPortRetired(const PathCounters& finalCounters);
  // The prover saw the path behind the VF of `generation` answer: TX moves
  // to it now instead of at the proof's time limit. Ignored when it is
  // about an older VF or TX is no longer waiting for this one.
  void onPathProven(std::uint64_t generation);

  // tvfctl detach: TX to the synthetic, announce, drain, retire, hold.
  void plannedDetach();
  // tvfctl attach [IFNAME]: end a hold or retry a failure.
  Status requestAttach(const std::optional<std::string>& ifname);
  // True once a planned detach has fully completed (for detach --wait).
  bool detachComplete() const;

  // Deadlines (attach wait, drain grace) run through the Clock.
  std::optional<Clock::TimePoint> nextDeadline() const;
  void onTick();

  PairStatus status() const;
  // The last SwitchTimeline::kCapacity switches, with reasons and durations.
  const SwitchTimeline& timeline() const { return timeline_; }
  // Restores a saved timeline (persist: true, after a daemon restart).
  // The switch count continues from the saved timeline's (every switch it
  // ever recorded, evicted or not).
  void restoreTimeline(SwitchTimeline saved);
  // Totals of earlier runs, added to the datapath's own in status(): a
  // clean exit takes the kernel datapath's maps (and with them its
  // counters), a restart the user datapath's workers.
  void restoreCounterBase(const PathCounters& synthetic, const PathCounters& vf);
  // SIGHUP: the new snapshot, in which only the keys the key table marks
  // live may differ (tvf/ConfigKeys.hpp reloadPair makes it).
  void reconfigure(PairConfigPtr next);
  const PairConfig& config() const { return *config_; }
  PairState state() const { return state_; }
  PathKind txPath() const { return txPath_; }
  std::uint64_t generation() const { return generation_; }
  const std::optional<LinkInfo>& vf() const { return vf_; }
  // The attached VF no longer matches the pair (its MAC changed, it was
  // enslaved elsewhere) but is still here: the pair lets it go as if it had
  // left, and releases its claim.
  void onVfStoppedMatching(int ifindex);
  int syntheticIndex() const { return synthetic_.ifindex; }
  MacAddress mac() const { return synthetic_.mac; }
  int tapIndex() const { return tap_.ifindex; }

 private:
  enum class DeadlineKind { AttachWait, Drain, CarrierUp, AttachRetry };
  struct Deadline {
    Clock::TimePoint at;
    DeadlineKind kind;
    std::uint64_t generation;
  };

  void dispatch(PairEvent event);
  void run(PairEvent event);
  void execute(PairAction action);
  PairEvent performAttach();
  PairEvent attachFailure(const Status& st);
  void rollbackAttach();
  void switchTx(PathKind path);
  void offerCandidate();
  // Asks the prover to prove the path behind vf_ and arms the proof's time
  // limit; false when there is no prover, nothing to prove it with, or
  // carrier_up_delay is 0 (the operator wants no wait).
  bool startProof();
  void stopProof();
  void updateCarrier();
  bool vfUsable() const;
  // Frames the datapath dropped so far, both paths, rx + tx (the timeline's window).
  std::uint64_t droppedFrames() const;
  void refreshVfCapabilities();
  // What tvf0 may advertise while the VF carries TX: synthetic ∩ VF ∩ the
  // VF backend's negotiated features.
  Capabilities vfPathCaps() const;
  void forwardTapChange(const LinkInfo& now);
  std::vector<TapMirror::Target> controlTargets() const;
  void setError(const std::string& e);

  PairConfigPtr config_;
  PairDeps deps_;
  ThreadOwner owner_;
  std::shared_ptr<spdlog::logger> log_;
  TapMirror mirror_;

  PairState state_ = PairState::NoVf;
  std::deque<PairEvent> queue_;  // events raised while actions run
  bool dispatching_ = false;
  std::uint64_t generation_ = 0;  // bumped for every VF the pair takes up

  LinkInfo synthetic_;
  bool syntheticGone_ = false;  // left the namespace; synthetic_ is its last state
  Capabilities syntheticCaps_;
  LinkInfo tap_;  // the TAP as tvf last applied / accepted it
  std::vector<MacAddress> tapMulticast_;
  Capabilities appliedCaps_;  // what the TAP advertises now
  std::optional<Capabilities> savedTapCaps_;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> clampedMtu_;  // from, to

  std::optional<LinkInfo> vf_;  // the VF waited for / attached
  bool vfGone_ = false;
  std::string vfRefusal_;  // the VF refused the TAP's MTU/flags: no TX on it until it takes them
  Capabilities vfCaps_;
  Capabilities vfBackendCaps_;  // what the VF's backend negotiated (BackendFeatures)
  CandidateSet candidates_;
  std::optional<LinkInfo> offered_;     // the candidate of the event in flight
  bool held_ = false;
  // resumeAfterRestart; emptied once the pair waits for one of them.
  std::map<int, std::string> claimedBefore_;
  // Whether `vf` (its ifindex and name) is a VF the pair held before the
  // restart.
  bool resumable(const LinkInfo& vf) const;
  int leftToOs_ = 0;  // transparent: false: the last VF said to be left to the OS (ifindex)

  PathKind txPath_ = PathKind::Synthetic;
  bool switchedNow_ = false;  // the current transition really moved TX
  bool proving_ = false;      // the prover is proving the path behind this VF (deps_.prover)
  bool vfHadTx_ = false;      // TX has used this VF since it attached: later returns wait carrier_up_delay
  std::optional<bool> carrier_;
  bool retiring_ = false;
  std::optional<Deadline> deadline_;
  PathCounters retiredCounters_;

  CounterAccumulator vfAccumulator_;
  PathCounters syntheticBase_;  // earlier runs' totals (restoreCounterBase)
  PathCounters vfBase_;
  std::uint64_t switches_ = 0;
  std::uint64_t attachFailures_ = 0;
  unsigned transientFailures_ = 0;  // attach failures in a row for want of a resource (retried)
  std::uint64_t illegalTransitions_ = 0;
  std::uint64_t refusedVfs_ = 0;
  std::uint64_t controlOpRollbacks_ = 0;
  std::int64_t lastSwitchUnixMs_ = 0;
  std::string lastError_;
  PathKind switchedFrom_ = PathKind::Synthetic;  // TX's path before the switch in flight
  struct TxMoved {
    std::int64_t wallUs = 0;  // CLOCK_REALTIME, µs
    std::int64_t monoUs = 0;  // the Clock, µs
    std::uint64_t drops = 0;  // droppedFrames() then
  } txMovedAt_;
  SwitchTimeline timeline_;
};

using PairPtr = std::unique_ptr<Pair>;

}  // namespace tvf
