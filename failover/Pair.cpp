#include "failover/Pair.hpp"

#include <algorithm>
#include <numeric>

#include "base/Log.hpp"

namespace tvf {

namespace {
constexpr std::chrono::milliseconds kVfTakeoverDelay{100};
// How long TX waits for the prover's proof before it moves to a fresh VF
// anyway (a network where no neighbour answers must still get its VF).
constexpr std::chrono::milliseconds kPathProofLimit{1000};
// The pause before an attach that failed for want of a resource is tried
// again: the first, doubling up to the last.
constexpr std::chrono::milliseconds kAttachRetryFirst{1000};
constexpr std::chrono::milliseconds kAttachRetryMax{30000};
bool isVanishError(int code) { return code == ENODEV || code == ENXIO; }
std::int64_t unixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The events that start a switch, and the reason the timeline gives it.
std::optional<SwitchReason> switchTrigger(PairEvent e) {
  switch (e) {
    case PairEvent::VfAppeared: return SwitchReason::Attach;
    case PairEvent::AttachRetryElapsed: return SwitchReason::Attach;
    case PairEvent::VfVanished: return SwitchReason::VfVanished;
    case PairEvent::PlannedDetach: return SwitchReason::PlannedDetach;
    case PairEvent::AttachRequested: return SwitchReason::OperatorCommand;
    case PairEvent::PortError: return SwitchReason::PortError;
    case PairEvent::VfCarrierLost: return SwitchReason::CarrierLost;
    case PairEvent::VfCarrierRestored: return SwitchReason::CarrierBack;
    default: return std::nullopt;
  }
}

std::int64_t micros(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}
}  // namespace

Pair::Pair(PairConfigPtr config, PairDeps deps)
    : config_(std::move(config)), deps_(deps), log_(moduleLogger("failover")),
      mirror_(config_->name, deps.links, deps.tap) {}

Pair::Pair(PairConfig config, PairDeps deps)
    : Pair(std::make_shared<const PairConfig>(std::move(config)), deps) {}

Pair::~Pair() = default;

Status Pair::start(const LinkInfo& synthetic, const LinkInfo& tap) {
  owner_.check();
  synthetic_ = synthetic;
  tap_ = tap;
  auto caps = deps_.links.readCapabilities(synthetic.ifindex);
  if (!caps) return caps.status();
  syntheticCaps_ = *caps;
  if (auto st = deps_.tap.applyCapabilities(syntheticCaps_); !st) return st;
  appliedCaps_ = syntheticCaps_;
  // The synthetic follows the TAP: same MTU, same flags.
  if (synthetic_.mtu != tap_.mtu) {
    if (auto st = deps_.links.setMtu(synthetic.ifindex, tap_.mtu); !st) {
      log_->warn("{}: synthetic {} refused mtu {}: {}", config_->name, synthetic.ifname, tap_.mtu,
                 st.error().describe());
    }
  }
  (void)deps_.links.setPromisc(synthetic.ifindex, tap_.actsPromisc());
  (void)deps_.links.setAllmulti(synthetic.ifindex, tap_.actsAllmulti());
  (void)deps_.links.setUp(synthetic.ifindex, tap_.up);
  deps_.datapath.switchTx(PathKind::Synthetic);
  txPath_ = PathKind::Synthetic;
  updateCarrier();
  log_->info("{}: started on synthetic {} (ifindex {}), transparent={}", config_->name,
             synthetic.ifname, synthetic.ifindex, config_->transparent);
  return Status::ok();
}

void Pair::startHeld() {
  owner_.check();
  held_ = true;
  log_->info("{}: held by a planned detach made before the restart; tvfctl attach ends it", config_->name);
}

void Pair::startAttachOnly(const std::string& ifname) {
  owner_.check();
  candidates_.prefer(ifname);
  log_->info("{}: takes only VF {}, as tvfctl attach asked before the restart", config_->name, ifname);
}

void Pair::resumeAfterRestart(const std::map<int, std::string>& claimedBefore) {
  owner_.check();
  claimedBefore_.insert(claimedBefore.begin(), claimedBefore.end());
}

void Pair::onSyntheticRemoved() {
  owner_.check();
  if (syntheticGone_) return;
  syntheticGone_ = true;
  synthetic_.carrier = false;
  synthetic_.running = false;
  setError("synthetic " + synthetic_.ifname + " left the namespace");
  log_->error("{}: synthetic {} (ifindex {}) left the namespace; the pair keeps its TAP and waits for it",
              config_->name, synthetic_.ifname, synthetic_.ifindex);
  updateCarrier();
}

void Pair::replaceSynthetic(const LinkInfo& synthetic) {
  owner_.check();
  log_->info("{}: synthetic back as {} (ifindex {}, was {})", config_->name, synthetic.ifname, synthetic.ifindex,
             synthetic_.ifindex);
  synthetic_ = synthetic;
  syntheticGone_ = false;
  if (auto caps = deps_.links.readCapabilities(synthetic.ifindex)) {
    syntheticCaps_ = *caps;
    const Capabilities want = state_ == PairState::Active && deps_.datapath.hasVfPort() ? vfPathCaps() : syntheticCaps_;
    if (want != appliedCaps_ && deps_.tap.applyCapabilities(want)) appliedCaps_ = want;
  }
  if (synthetic_.mtu != tap_.mtu) {
    if (auto st = deps_.links.setMtu(synthetic.ifindex, tap_.mtu); !st)
      log_->warn("{}: synthetic {} refused mtu {}: {}", config_->name, synthetic.ifname, tap_.mtu, st.error().describe());
  }
  (void)deps_.links.setPromisc(synthetic.ifindex, tap_.promisc);
  (void)deps_.links.setAllmulti(synthetic.ifindex, tap_.allmulti);
  (void)deps_.links.setMulticast(synthetic.ifindex, tapMulticast_);
  (void)deps_.links.setUp(synthetic.ifindex, tap_.up);
  lastError_.clear();
  updateCarrier();
}

// ---- events from the outside ------------------------------------------------

void Pair::onVfCandidate(const LinkInfo& vf) {
  owner_.check();
  if (!config_->transparent) {  // the VF belongs to the OS: said once per VF
    if (vf.ifindex != leftToOs_)
      log_->info("{}: VF {} left to the OS (transparent: false)", config_->name, vf.ifname);
    leftToOs_ = vf.ifindex;
    return;
  }
  candidates_.offer(vf, deps_.clock.now());
  if (vf_ && vf_->ifindex == vf.ifindex) {
    onLinkChanged(vf);
    return;
  }
  // The VF held before the restart turns up while the pair waits for
  // another (the startup's link dump comes in ifindex order): it is the
  // one taken back, at once; the other stays a candidate.
  if (state_ == PairState::Waiting && vf_ && resumable(vf) && !resumable(*vf_) && candidates_.accepts(vf)) {
    log_->info("{}: VF {} was this pair's before the restart: taken instead of {}", config_->name, vf.ifname,
               vf_->ifname);
    vf_ = vf;
    vfGone_ = false;
    ++generation_;
    execute(PairAction::StartAttachWait);
    return;
  }
  if (state_ == PairState::NoVf) {
    if (held_) {
      log_->info("{}: VF {} present but the pair is held by a planned detach", config_->name,
                 vf.ifname);
      return;
    }
    if (!candidates_.accepts(vf)) {
      log_->info("{}: VF {} ignored, attach asked for {}", config_->name, vf.ifname,
                 *candidates_.preferred());
      return;
    }
    vf_ = vf;
    vfGone_ = false;
    ++generation_;
  }
  offered_ = vf;
  dispatch(PairEvent::VfAppeared);
  offered_.reset();
}

void Pair::onVfStoppedMatching(int ifindex) {
  owner_.check();
  const bool ours = vf_ && vf_->ifindex == ifindex && !vfGone_;
  onLinkRemoved(ifindex);
  // Still here, but no VF of this pair's: it gets back what it had before
  // the claim, as at a planned detach.
  if (ours) {
    if (auto st = deps_.links.releaseBackend(ifindex); !st)
      log_->warn("{}: release of ifindex {}: {}", config_->name, ifindex, st.error().describe());
  }
}

bool Pair::resumable(const LinkInfo& vf) const {
  const auto it = claimedBefore_.find(vf.ifindex);
  return it != claimedBefore_.end() && it->second == vf.ifname;
}

void Pair::onLinkRemoved(int ifindex) {
  owner_.check();
  candidates_.remove(ifindex);
  if (ifindex == leftToOs_) {
    log_->info("{}: the VF left to the OS (ifindex {}) is gone", config_->name, ifindex);
    leftToOs_ = 0;
  }
  if (vf_ && vf_->ifindex == ifindex && !vfGone_) {
    log_->info("{}: VF {} (ifindex {}) left", config_->name, vf_->ifname, ifindex);
    dispatch(PairEvent::VfVanished);
  }
}

void Pair::onLinkChanged(const LinkInfo& link) {
  owner_.check();
  if (link.ifindex == tap_.ifindex) {
    forwardTapChange(link);
    return;
  }
  if (link.ifindex == synthetic_.ifindex) {
    synthetic_ = link;
    // A claimed backend's MTU and flags are the TAP's (an invariant, kept
    // when someone changes them behind tvf's back). The synthetic cannot be
    // left; a refusal is in last_error.
    if (auto kept = mirror_.keep(tap_, link); !kept.error.empty()) setError(kept.error);
    if (state_ != PairState::Active) {
      if (auto caps = deps_.links.readCapabilities(link.ifindex); caps && *caps != syntheticCaps_) {
        syntheticCaps_ = *caps;
        if (deps_.tap.applyCapabilities(syntheticCaps_)) appliedCaps_ = syntheticCaps_;
      }
    }
    updateCarrier();
    return;
  }
  if (!vf_ || vf_->ifindex != link.ifindex || vfGone_) return;
  candidates_.refresh(link);
  vf_ = link;
  if (state_ == PairState::Active) {
    // The same invariant as the synthetic's. A VF that refuses the TAP's
    // state (an MTU it no longer takes) carries no TX until it has it again.
    auto kept = mirror_.keep(tap_, link);
    vfRefusal_ = kept.error;
    if (!kept.error.empty()) setError(kept.error);
    refreshVfCapabilities();
    const bool usable = vfUsable();
    const bool waiting = deadline_ && deadline_->kind == DeadlineKind::CarrierUp;
    if (txPath_ == PathKind::Vf && !usable) {
      log_->info("{}: VF {} {}; TX back to the synthetic", config_->name, link.ifname,
                 vfRefusal_.empty() ? "lost carrier" : "refuses the TAP's state");
      dispatch(PairEvent::VfCarrierLost);
    } else if (txPath_ == PathKind::Synthetic && usable && !deadline_) {
      dispatch(PairEvent::VfCarrierUp);
    } else if (txPath_ == PathKind::Synthetic && !usable && waiting) {
      dispatch(PairEvent::VfCarrierLost);  // it flapped again: start over on the next carrier
    }
  }
  updateCarrier();
}

void Pair::onTapMulticast(const std::vector<MacAddress>& groups) {
  owner_.check();
  if (groups == tapMulticast_) return;
  tapMulticast_ = groups;
  mirror_.mirrorMulticast(groups, controlTargets());
}

void Pair::onPortError(std::uint64_t generation, int err) {
  owner_.check();
  if (generation != generation_ || !vf_) {
    log_->debug("{}: stale port error (generation {}, now {}) dropped", config_->name, generation,
                generation_);
    return;
  }
  if (state_ != PairState::Active && state_ != PairState::Detaching) return;
  log_->warn("{}: VF port {} failed: {}", config_->name, vf_->ifname, std::strerror(err));
  if (err == ENETDOWN && state_ == PairState::Active) {
    if (txPath_ == PathKind::Vf) dispatch(PairEvent::VfPortDown);
    return;
  }
  dispatch(PairEvent::PortError);
}

void Pair::onVfPortRetired(const PathCounters& finalCounters) {
  owner_.check();
  retiredCounters_ = finalCounters;
  dispatch(PairEvent::VfPortRetired);
}

void Pair::plannedDetach() {
  owner_.check();
  log_->info("{}: planned detach requested in state {}", config_->name, stateName(state_));
  dispatch(PairEvent::PlannedDetach);
}

Status Pair::requestAttach(const std::optional<std::string>& ifname) {
  owner_.check();
  if (!config_->transparent)
    return Status::fail(EPERM, config_->name + " is not transparent; its VF belongs to the OS");
  if (ifname && !candidates_.knows(*ifname)) {
    return Status::fail(ENODEV, *ifname + " is not a VF candidate of " + config_->name);
  }
  // Naming another VF than the one the pair waits for, attaches or runs on
  // would only pin a name it does not switch to: refused, nothing changes.
  const bool onAVf = state_ == PairState::Waiting || state_ == PairState::Attaching || state_ == PairState::Active;
  if (ifname && vf_ && vf_->ifname != *ifname && !held_ && onAVf) {
    return Status::fail(EBUSY, config_->name + " is " + std::string(stateName(state_)) + " on VF " + vf_->ifname +
                                   "; to move to " + *ifname + ": tvfctl detach " + config_->name +
                                   " --wait, then tvfctl attach " + config_->name + " " + *ifname);
  }
  candidates_.prefer(ifname);
  dispatch(PairEvent::AttachRequested);
  return Status::ok();
}

bool Pair::detachComplete() const {
  owner_.check();
  return held_ && state_ != PairState::Detaching && !deps_.datapath.hasVfPort();
}

std::optional<Clock::TimePoint> Pair::nextDeadline() const {
  owner_.check();
  if (!deadline_) return std::nullopt;
  return deadline_->at;
}

void Pair::onTick() {
  owner_.check();
  if (!deadline_ || deps_.clock.now() < deadline_->at) return;
  const Deadline d = *deadline_;
  deadline_.reset();
  if (d.generation != generation_) return;  // about an older VF
  switch (d.kind) {
    case DeadlineKind::AttachWait: dispatch(PairEvent::AttachWaitElapsed); break;
    case DeadlineKind::Drain: dispatch(PairEvent::DrainElapsed); break;
    case DeadlineKind::AttachRetry:
      // Not while held by a planned detach: the VF is about to go.
      if (state_ == PairState::Failed && !held_) dispatch(PairEvent::AttachRetryElapsed);
      break;
    case DeadlineKind::CarrierUp:
      if (proving_)
        log_->warn("{}: no neighbour answered through VF {} within {} ms; TX moves to it anyway", config_->name,
                   vf_ ? vf_->ifname : "?", kPathProofLimit.count());
      stopProof();
      if (state_ == PairState::Active && txPath_ == PathKind::Synthetic) dispatch(PairEvent::VfCarrierRestored);
      break;
  }
}

void Pair::onPathProven(std::uint64_t generation) {
  owner_.check();
  if (!proving_ || generation != generation_ || !deadline_ || deadline_->kind != DeadlineKind::CarrierUp ||
      deadline_->generation != generation)
    return;
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      deps_.clock.now() - (deadline_->at - kPathProofLimit));
  deadline_.reset();
  stopProof();
  if (state_ != PairState::Active || txPath_ != PathKind::Synthetic) return;
  log_->info("{}: a neighbour answered through VF {} after {} ms", config_->name, vf_ ? vf_->ifname : "?",
             waited.count());
  dispatch(PairEvent::VfCarrierRestored);
}

bool Pair::startProof() {
  if (!vf_ || config_->carrierUpDelay.count() == 0 || !deps_.prover || !deps_.prover->startProof(*vf_, generation_))
    return false;
  proving_ = true;
  log_->info("{}: VF {} has carrier; TX moves to it once a neighbour answers through it (at most {} ms)",
             config_->name, vf_->ifname, kPathProofLimit.count());
  deadline_ = Deadline{deps_.clock.now() + kPathProofLimit, DeadlineKind::CarrierUp, generation_};
  return true;
}

void Pair::stopProof() {
  if (!proving_) return;
  proving_ = false;
  if (deps_.prover) deps_.prover->stopProof();
}

// ---- the engine ---------------------------------------------------------------

void Pair::dispatch(PairEvent event) {
  queue_.push_back(event);
  if (dispatching_) return;
  dispatching_ = true;
  while (!queue_.empty()) {
    const PairEvent next = queue_.front();
    queue_.pop_front();
    run(next);
  }
  dispatching_ = false;
}

void Pair::run(PairEvent event) {
  const PairState from = state_;
  auto t = lookupTransition(from, event, vfUsable());
  if (!t) {
    ++illegalTransitions_;
    log_->warn("{}: illegal transition [{}] -> [?] on {} (ignored)", config_->name,
               stateName(from), eventName(event));
    return;
  }
  state_ = t->next;
  switchedNow_ = false;
  // A held pair (planned detach) moves nowhere until tvfctl attach.
  if (auto reason = switchTrigger(event);
      reason && switchTarget(*reason) != txPath_ && (!held_ || event == PairEvent::AttachRequested))
    timeline_.trigger(*reason, micros(std::chrono::system_clock::now().time_since_epoch()),
                      micros(deps_.clock.now().time_since_epoch()), droppedFrames());
  for (PairAction a : t->actions) execute(a);
  // Back at rest without a switch: what started one led nowhere.
  if (!switchedNow_ && from != state_ && (state_ == PairState::NoVf || state_ == PairState::Failed))
    timeline_.clearTrigger();
  updateCarrier();
  if (from != state_) {
    log_->info("{}: [{}] -> [{}] on {}", config_->name, stateName(from), stateName(state_),
               eventName(event));
    deps_.bus.pairStateChanged(config_->name, from, state_);
  }
}

void Pair::execute(PairAction action) {
  switch (action) {
    case PairAction::StartAttachWait: {
      const auto now = deps_.clock.now();
      const auto since = (vf_ ? candidates_.since(vf_->ifindex) : std::nullopt).value_or(now);
      const bool resumed = vf_ && resumable(*vf_);
      if (resumed) claimedBefore_.clear();
      const auto at = resumed ? now : std::max(now, since + config_->attachWait);
      deadline_ = Deadline{at, DeadlineKind::AttachWait, generation_};
      if (resumed) {
        log_->info("{}: VF {} was this pair's before the restart; attaching it now", config_->name, vf_->ifname);
        break;
      }
      log_->info("{}: VF {} found; attaching in {} ms", config_->name, vf_ ? vf_->ifname : "?",
                 std::chrono::duration_cast<std::chrono::milliseconds>(at - now).count());
      break;
    }
    case PairAction::CancelAttachWait:
    case PairAction::RetireVfPort:
      if (deadline_) deadline_.reset();
      if (action == PairAction::RetireVfPort) {
        if (deps_.datapath.hasVfPort()) {
          if (!retiring_) {
            retiring_ = true;
            deps_.datapath.retireVfPort();
          }
        } else if (!retiring_) {
          retiredCounters_ = {};
          queue_.push_back(PairEvent::VfPortRetired);
        }
      }
      break;
    case PairAction::Attach:
      queue_.push_back(performAttach());
      break;
    case PairAction::RollbackAttach:
      rollbackAttach();
      break;
    case PairAction::RefuseSecondVf:
      ++refusedVfs_;
      log_->warn("{}: second VF {} refused; the pair already has {}", config_->name,
                 offered_ ? offered_->ifname : "?", vf_ ? vf_->ifname : "?");
      break;
    case PairAction::ForgetVf:
      vfGone_ = true;
      if (vf_) candidates_.remove(vf_->ifindex);
      if (state_ == PairState::NoVf) {
        vf_.reset();
        vfGone_ = false;
      }
      break;
    case PairAction::SwitchTxToVf:
      if (vfUsable()) switchTx(PathKind::Vf);
      break;
    case PairAction::SwitchTxToSynthetic:
      switchTx(PathKind::Synthetic);
      break;
    case PairAction::Announce:
      if (switchedNow_) {
        const int ifindex = txPath_ == PathKind::Vf && vf_ ? vf_->ifindex : synthetic_.ifindex;
        deps_.bus.announceRequested(config_->name, txPath_, ifindex, config_->announceCount);
      }
      break;
    case PairAction::RunSwitchHook:
      if (switchedNow_) {
        const std::string ifname = txPath_ == PathKind::Vf && vf_ ? vf_->ifname : synthetic_.ifname;
        deps_.bus.datapathSwitched(config_->name, txPath_, ifname);
      }
      break;
    case PairAction::CountSwitch:
      if (switchedNow_) {
        ++switches_;
        lastSwitchUnixMs_ = unixMillisNow();
        timeline_.switched(switchedFrom_, txPath_, vf_ ? vf_->ifname : "", txMovedAt_.wallUs, txMovedAt_.monoUs,
                           txMovedAt_.drops, SwitchReason::OperatorCommand);
      }
      break;
    case PairAction::StartDrain:
      deadline_ = Deadline{deps_.clock.now() + config_->drainGrace, DeadlineKind::Drain, generation_};
      break;
    case PairAction::FoldCounters:
      vfAccumulator_.fold(retiredCounters_);
      retiredCounters_ = {};
      retiring_ = false;
      break;
    case PairAction::RestoreTap:
      if (savedTapCaps_) {
        if (auto st = deps_.tap.applyCapabilities(*savedTapCaps_); !st) {
          setError(st.error().describe());
        } else {
          appliedCaps_ = *savedTapCaps_;
        }
        savedTapCaps_.reset();
      }
      if (clampedMtu_ && tap_.mtu == clampedMtu_->second) {
        const auto from = clampedMtu_->first;
        if (deps_.tap.setMtu(from) && deps_.links.setMtu(synthetic_.ifindex, from)) tap_.mtu = from;
      }
      clampedMtu_.reset();
      break;
    case PairAction::ReleaseVf:
      if (vf_ && !vfGone_) {
        if (auto st = deps_.links.releaseBackend(vf_->ifindex); !st) {
          log_->warn("{}: release of VF {}: {}", config_->name, vf_->ifname, st.error().describe());
        }
      }
      vf_.reset();
      vfGone_ = false;
      break;
    case PairAction::Hold:
      held_ = true;
      candidates_.prefer(std::nullopt);
      break;
    case PairAction::ReleaseHold:
      held_ = false;
      break;
    case PairAction::OfferCandidate:
      offerCandidate();
      break;
    case PairAction::StartCarrierWait: {
      // A VF that carried TX before waits carrier_up_delay. A fresh one
      // waits until the prover has seen a neighbour answer through it (the
      // switch port behind a new VF may still be disabled when the VF's own
      // carrier is up), at most kPathProofLimit; with nothing to prove it
      // with, the takeover delay (hv_netvsc's VF_TAKEOVER_INT).
      if (!vfHadTx_ && startProof()) break;
      const auto delay = vfHadTx_ ? config_->carrierUpDelay : std::min(kVfTakeoverDelay, config_->carrierUpDelay);
      if (delay.count() == 0) {
        queue_.push_back(PairEvent::VfCarrierRestored);
      } else {
        log_->info("{}: VF {} has carrier; TX moves to it in {} ms", config_->name, vf_ ? vf_->ifname : "?",
                   delay.count());
        deadline_ = Deadline{deps_.clock.now() + delay, DeadlineKind::CarrierUp, generation_};
      }
      break;
    }
    case PairAction::ProveVfPath:
      // The VF had carrier when it attached: the same proof as for a
      // carrier that came up later; with nothing to prove it with, TX moves
      // at once.
      if (!startProof()) queue_.push_back(PairEvent::VfCarrierRestored);
      break;
    case PairAction::CancelCarrierWait:
      if (deadline_ && deadline_->kind == DeadlineKind::CarrierUp) deadline_.reset();
      stopProof();
      break;
  }
}

void Pair::offerCandidate() {
  if (state_ != PairState::NoVf || held_) return;
  auto pick = candidates_.pick();
  if (!pick) return;
  vf_ = *pick;
  vfGone_ = false;
  ++generation_;
  queue_.push_back(PairEvent::VfAppeared);
}

PairEvent Pair::attachFailure(const Status& st) {
  setError(st.error().describe());
  if (isVanishError(st.code())) {
    log_->warn("{}: VF vanished while attaching: {}", config_->name, st.error().describe());
    return PairEvent::VfVanished;
  }
  ++attachFailures_;
  // Out of descriptors, memory or buffers: the VF is fine and a later try
  // may work, so the pair tries again by itself after 1 s, then 2, 4 ...
  // up to kAttachRetryMax. Any other failure waits for the VF to leave or
  // for tvfctl attach.
  const int code = st.code();
  if (code == EMFILE || code == ENFILE || code == ENOMEM || code == ENOBUFS || code == EAGAIN) {
    const auto delay = std::min<std::chrono::milliseconds>(kAttachRetryFirst * (1u << std::min(transientFailures_, 5u)),
                                                           kAttachRetryMax);
    ++transientFailures_;
    deadline_ = Deadline{deps_.clock.now() + delay, DeadlineKind::AttachRetry, generation_};
    log_->error("{}: attach failed: {}; trying again in {} ms", config_->name, st.error().describe(), delay.count());
    return PairEvent::AttachFailed;
  }
  log_->error("{}: attach failed: {}", config_->name, st.error().describe());
  return PairEvent::AttachFailed;
}

PairEvent Pair::performAttach() {
  TVF_ASSERT(vf_.has_value());
  const LinkInfo vf = *vf_;
  vfHadTx_ = false;
  vfRefusal_.clear();
  log_->info("{}: attaching VF {} (ifindex {}, generation {})", config_->name, vf.ifname,
             vf.ifindex, generation_);
  // 1. What the VF's backend can carry (feature negotiation): it enters
  // the intersection before the TAP advertises anything. Asked before the
  // claim: the kernel datapath names its redirect for the VF's ingress
  // hook here, so the claim attaches it directly (a previous run's
  // redirect is swapped in place, never for the drop first).
  auto backend = deps_.datapath.probeVf(vf);
  if (!backend) return attachFailure(backend.status());
  vfBackendCaps_ = backend->asCapabilities();
  // 2. Claim the VF and read its capabilities.
  if (auto st = deps_.links.claimBackend(vf.ifindex); !st) return attachFailure(st);
  auto caps = deps_.links.readCapabilities(vf.ifindex);
  if (!caps) return attachFailure(caps.status());
  vfCaps_ = *caps;
  // 2. Save the TAP's synthetic-only state.
  savedTapCaps_ = appliedCaps_;
  // 3. The MTU policy, before anything is changed on the TAP.
  if (!vfCaps_.acceptsMtu(tap_.mtu)) {
    const std::uint32_t fit = tap_.mtu < vfCaps_.minMtu ? vfCaps_.minMtu : vfCaps_.maxMtu;
    if (config_->vfMtuPolicy == VfMtuPolicy::Refuse) {
      return attachFailure(Status::fail(
          ERANGE, vf.ifname + " cannot take mtu " + std::to_string(tap_.mtu) + " (range " +
                      std::to_string(vfCaps_.minMtu) + "-" + std::to_string(vfCaps_.maxMtu) +
                      "); vf_mtu_policy is refuse"));
    }
    log_->warn("{}: VF {} cannot take mtu {}; clamping {} to {} (vf_mtu_policy clamp)",
               config_->name, vf.ifname, tap_.mtu, config_->name, fit);
    if (auto st = deps_.tap.setMtu(fit); !st) return attachFailure(st);
    (void)deps_.links.setMtu(synthetic_.ifindex, fit);
    clampedMtu_ = std::make_pair(tap_.mtu, fit);
    tap_.mtu = fit;
  }
  // 4. The TAP advertises synthetic ∩ VF ∩ the VF's backend.
  const Capabilities merged = vfPathCaps();
  if (auto st = deps_.tap.applyCapabilities(merged); !st) return attachFailure(st);
  appliedCaps_ = merged;
  // 5. The VF takes the TAP's MTU and flags.
  if (vf.mtu != tap_.mtu) {
    if (auto st = deps_.links.setMtu(vf.ifindex, tap_.mtu); !st) return attachFailure(st);
  }
  if (auto st = deps_.links.setPromisc(vf.ifindex, tap_.actsPromisc()); !st) return attachFailure(st);
  if (auto st = deps_.links.setAllmulti(vf.ifindex, tap_.actsAllmulti()); !st) return attachFailure(st);
  if (auto st = deps_.links.setMulticast(vf.ifindex, tapMulticast_); !st) return attachFailure(st);
  // 6. Bring the VF up, then open its port; the switch follows on success.
  if (auto st = deps_.links.setUp(vf.ifindex, tap_.up); !st) return attachFailure(st);
  if (auto st = deps_.datapath.openVfPort(vf, generation_); !st) return attachFailure(st);
  lastError_.clear();
  transientFailures_ = 0;
  return PairEvent::AttachSucceeded;
}

void Pair::rollbackAttach() {
  if (savedTapCaps_) {
    if (deps_.tap.applyCapabilities(*savedTapCaps_)) appliedCaps_ = *savedTapCaps_;
    savedTapCaps_.reset();
  }
  if (clampedMtu_) {
    const auto from = clampedMtu_->first;
    if (deps_.tap.setMtu(from)) tap_.mtu = from;
    (void)deps_.links.setMtu(synthetic_.ifindex, from);
    clampedMtu_.reset();
  }
  if (vf_ && !vfGone_) (void)deps_.links.releaseBackend(vf_->ifindex);
}

void Pair::switchTx(PathKind path) {
  if (txPath_ == path) return;
  deps_.datapath.switchTx(path);
  // When TX moved, for the timeline (recorded later, at CountSwitch, after
  // the announcements).
  txMovedAt_ = {micros(std::chrono::system_clock::now().time_since_epoch()),
                micros(deps_.clock.now().time_since_epoch()), droppedFrames()};
  switchedFrom_ = txPath_;
  txPath_ = path;
  switchedNow_ = true;
  if (path == PathKind::Vf) vfHadTx_ = true;
  log_->info("{}: TX now on {} ({})", config_->name, pathName(path),
             path == PathKind::Vf && vf_ ? vf_->ifname : synthetic_.ifname);
}

Capabilities Pair::vfPathCaps() const { return intersect(intersect(syntheticCaps_, vfCaps_), vfBackendCaps_); }

std::uint64_t Pair::droppedFrames() const {
  const PathCounters syn = deps_.datapath.liveCounters(PathKind::Synthetic);
  const PathCounters vf =
      vfAccumulator_.total(deps_.datapath.hasVfPort() ? deps_.datapath.liveCounters(PathKind::Vf) : PathCounters{});
  return syn.rxDropped + syn.txDropped + vf.rxDropped + vf.txDropped;
}

bool Pair::vfUsable() const {
  return vf_ && !vfGone_ && vf_->up && vf_->carrier && deps_.datapath.hasVfPort() && !retiring_ &&
         vfRefusal_.empty();
}

void Pair::updateCarrier() {
  const bool want = txPath_ == PathKind::Vf ? vfUsable() : synthetic_.carrier;
  if (carrier_ && *carrier_ == want) return;
  if (auto st = deps_.tap.setCarrier(want); !st) {
    log_->warn("{}: carrier: {}", config_->name, st.error().describe());
    return;
  }
  carrier_ = want;
}

void Pair::refreshVfCapabilities() {
  auto caps = deps_.links.readCapabilities(vf_->ifindex);
  if (!caps || *caps == vfCaps_) return;
  vfCaps_ = *caps;
  const Capabilities merged = vfPathCaps();
  if (merged == appliedCaps_) return;
  if (auto st = deps_.tap.applyCapabilities(merged); !st) {
    setError(st.error().describe());
    return;
  }
  appliedCaps_ = merged;
  log_->info("{}: VF {} capabilities changed; TAP now advertises {} offloads", config_->name,
             vf_->ifname, merged.offloads.names().size());
}

std::vector<TapMirror::Target> Pair::controlTargets() const {
  std::vector<TapMirror::Target> targets;
  if (vf_ && !vfGone_ && state_ == PairState::Active) targets.push_back({vf_->ifindex, vf_->ifname});
  targets.push_back({synthetic_.ifindex, synthetic_.ifname});
  return targets;
}

void Pair::forwardTapChange(const LinkInfo& now) {
  auto out = mirror_.forward(tap_, now, controlTargets());
  tap_ = out.accepted;
  controlOpRollbacks_ += out.rollbacks;
  if (!out.error.empty()) setError(out.error);
  if (out.mtuChanged) clampedMtu_.reset();  // the user chose an MTU: nothing to restore later
}

void Pair::setError(const std::string& e) { lastError_ = e; }

void Pair::reconfigure(PairConfigPtr next) {
  owner_.check();
  config_ = std::move(next);
}

void Pair::restoreTimeline(SwitchTimeline saved) {
  owner_.check();
  timeline_ = std::move(saved);
  const auto& counts = timeline_.countsByReason();
  switches_ = std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
}

void Pair::restoreCounterBase(const PathCounters& synthetic, const PathCounters& vf) {
  owner_.check();
  syntheticBase_ = synthetic;
  vfBase_ = vf;
}

PairStatus Pair::status() const {
  owner_.check();
  PairStatus s;
  s.name = config_->name;
  s.tap = config_->name;
  s.transparent = config_->transparent;
  s.state = state_;
  s.active = txPath_;
  s.synthetic = {synthetic_.ifname, synthetic_.ifindex, synthetic_.carrier, "packet"};
  if (vf_) {
    s.vf = PairStatus::Backend{vf_->ifname, vf_->ifindex, vf_->carrier && !vfGone_,
                               deps_.datapath.hasVfPort() ? deps_.datapath.vfMechanism() : ""};
  }
  s.caps = appliedCaps_;
  // What tvf0 has: the operator's lower GSO limits, where set, hold.
  if (const auto [size, segs] = deps_.tap.gsoLimitsWritten(); size != 0 && segs != 0) {
    s.caps.gsoMaxSize = size;
    s.caps.gsoMaxSegs = segs;
  }
  s.mtu = tap_.mtu;
  s.datapath = deps_.datapath.describe();
  s.syntheticCounters = syntheticBase_;
  s.syntheticCounters += deps_.datapath.liveCounters(PathKind::Synthetic);
  s.vfCounters = vfBase_;
  s.vfCounters += vfAccumulator_.total(deps_.datapath.hasVfPort() ? deps_.datapath.liveCounters(PathKind::Vf)
                                                                    : deps_.datapath.unclaimedVfCounters());
  s.switches = switches_;
  s.held = held_;
  s.operatorOffloadsOff = deps_.tap.operatorOffloadsOff();
  s.candidates = candidates_.names(vf_ ? vf_->ifindex : 0);
  s.attachOnly = candidates_.preferred();
  s.generation = generation_;
  s.attachFailures = attachFailures_;
  s.illegalTransitions = illegalTransitions_;
  s.refusedVfs = refusedVfs_;
  s.controlOpRollbacks = controlOpRollbacks_;
  s.lastSwitchUnixMs = lastSwitchUnixMs_;
  s.lastError = lastError_;
  return s;
}

}  // namespace tvf
