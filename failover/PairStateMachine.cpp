#include "failover/PairStateMachine.hpp"

namespace tvf {
namespace {

using S = PairState;
using E = PairEvent;
using A = PairAction;
using G = Guard;
constexpr TxAfter kToVf = TxAfter::Vf;
constexpr TxAfter kToSyn = TxAfter::Synthetic;

// Leaving a working VF: TX first, then tell the network, then tear down.
#define TVF_LEAVE_VF A::SwitchTxToSynthetic, A::Announce, A::RunSwitchHook, A::CountSwitch

const std::vector<TableRow> kTable = {
    // NoVf
    {S::NoVf, E::VfAppeared, {S::Waiting, {A::StartAttachWait}}},
    {S::NoVf, E::VfVanished, {S::NoVf, {A::ForgetVf}}},
    {S::NoVf, E::PlannedDetach, {S::NoVf, {A::Hold}}},
    {S::NoVf, E::AttachRequested, {S::NoVf, {A::ReleaseHold, A::OfferCandidate}}},
    // Waiting: attach_wait lets udev renames and driver setup settle.
    {S::Waiting, E::AttachWaitElapsed, {S::Attaching, {A::Attach}}},
    {S::Waiting, E::VfVanished, {S::NoVf, {A::CancelAttachWait, A::ForgetVf, A::OfferCandidate}}},
    {S::Waiting, E::VfAppeared, {S::Waiting, {A::RefuseSecondVf}}},
    {S::Waiting, E::PlannedDetach, {S::NoVf, {A::CancelAttachWait, A::Hold}}},
    {S::Waiting, E::AttachRequested, {S::Waiting, {}}},
    // Attaching
    // Attached with carrier: TX moves once the path behind the VF is
    // proven (VfCarrierRestored), at once when there is nothing to prove
    // it with.
    {S::Attaching, E::AttachSucceeded, {S::Active, {A::ProveVfPath}, kToSyn}, G::VfUsable},
    // Attached without carrier yet: TX stays on the synthetic until
    // VfCarrierUp and its wait.
    {S::Attaching, E::AttachSucceeded, {S::Active, {}, kToSyn}, G::VfNotUsable},
    {S::Attaching, E::AttachFailed, {S::Failed, {A::RollbackAttach}}},
    {S::Attaching, E::VfVanished, {S::NoVf, {A::ForgetVf, A::RollbackAttach, A::OfferCandidate}}},
    {S::Attaching, E::VfAppeared, {S::Attaching, {A::RefuseSecondVf}}},
    // Active
    // Active: the VF is attached. TX is on it, or, after a carrier loss or
    // before its first carrier, on the synthetic while the carrier wait runs.
    {S::Active, E::VfVanished, {S::Detaching, {A::ForgetVf, A::CancelCarrierWait, TVF_LEAVE_VF, A::RetireVfPort}, kToSyn}},
    {S::Active, E::PortError, {S::Detaching, {A::CancelCarrierWait, TVF_LEAVE_VF, A::RetireVfPort}, kToSyn}},
    {S::Active, E::PlannedDetach, {S::Detaching, {A::Hold, A::CancelCarrierWait, TVF_LEAVE_VF, A::StartDrain}, kToSyn}},
    {S::Active, E::VfAppeared, {S::Active, {A::RefuseSecondVf}}},
    {S::Active, E::AttachRequested, {S::Active, {}}},
    {S::Active, E::VfCarrierLost, {S::Active, {A::CancelCarrierWait, TVF_LEAVE_VF}, kToSyn}},
    {S::Active, E::VfPortDown, {S::Active, {A::CancelCarrierWait, TVF_LEAVE_VF}, kToSyn}},
    {S::Active, E::VfCarrierUp, {S::Active, {A::StartCarrierWait}, kToSyn}},
    {S::Active, E::VfCarrierRestored,
     {S::Active, {A::SwitchTxToVf, A::Announce, A::RunSwitchHook, A::CountSwitch}, kToVf}, G::VfUsable},
    {S::Active, E::VfCarrierRestored, {S::Active, {}, kToSyn}, G::VfNotUsable},
    // Detaching
    {S::Detaching, E::DrainElapsed, {S::Detaching, {A::RetireVfPort}}},
    {S::Detaching, E::VfPortRetired,
     {S::NoVf, {A::FoldCounters, A::RestoreTap, A::ReleaseVf, A::OfferCandidate}}},
    {S::Detaching, E::VfVanished, {S::Detaching, {A::ForgetVf, A::RetireVfPort}}},
    {S::Detaching, E::PortError, {S::Detaching, {A::RetireVfPort}}},
    {S::Detaching, E::VfAppeared, {S::Detaching, {A::RefuseSecondVf}}},
    {S::Detaching, E::PlannedDetach, {S::Detaching, {A::Hold}}},
    {S::Detaching, E::VfCarrierLost, {S::Detaching, {}}},
    {S::Detaching, E::VfCarrierUp, {S::Detaching, {}}},
    {S::Detaching, E::VfCarrierRestored, {S::Detaching, {}}},
    {S::Detaching, E::VfPortDown, {S::Detaching, {}}},
    // Failed: the VF stays untaken until it leaves or an attach is asked for.
    {S::Failed, E::VfVanished, {S::NoVf, {A::ForgetVf, A::OfferCandidate}}},
    {S::Failed, E::AttachRequested, {S::Waiting, {A::ReleaseHold, A::StartAttachWait}}},
    {S::Failed, E::PlannedDetach, {S::Failed, {A::Hold}}},
    {S::Failed, E::VfAppeared, {S::Failed, {A::RefuseSecondVf}}},
    // An attach that failed for want of a resource (EMFILE, ENOMEM, ...)
    // is tried again by itself, with a growing pause.
    {S::Failed, E::AttachRetryElapsed, {S::Attaching, {A::Attach}}},
};

#undef TVF_LEAVE_VF

}  // namespace

const std::vector<TableRow>& transitionTable() { return kTable; }

std::optional<Transition> lookupTransition(PairState state, PairEvent event, bool vfUsable) {
  for (const auto& row : kTable) {
    if (row.from != state || row.event != event) continue;
    if (row.guard == Guard::VfUsable && !vfUsable) continue;
    if (row.guard == Guard::VfNotUsable && vfUsable) continue;
    return row.to;
  }
  return std::nullopt;
}

std::string_view guardName(Guard g) {
  switch (g) {
    case G::Always: return "always";
    case G::VfUsable: return "vf-usable";
    case G::VfNotUsable: return "vf-not-usable";
  }
  return "?";
}

std::string_view eventName(PairEvent e) {
  switch (e) {
    case E::VfAppeared: return "vf-appeared";
    case E::VfVanished: return "vf-vanished";
    case E::AttachWaitElapsed: return "attach-wait-elapsed";
    case E::AttachSucceeded: return "attach-succeeded";
    case E::AttachFailed: return "attach-failed";
    case E::PlannedDetach: return "planned-detach";
    case E::AttachRequested: return "attach-requested";
    case E::AttachRetryElapsed: return "attach-retry-elapsed";
    case E::PortError: return "port-error";
    case E::DrainElapsed: return "drain-elapsed";
    case E::VfPortRetired: return "vf-port-retired";
    case E::VfCarrierLost: return "vf-carrier-lost";
    case E::VfCarrierUp: return "vf-carrier-up";
    case E::VfCarrierRestored: return "vf-carrier-restored";
    case E::VfPortDown: return "vf-port-down";
  }
  return "?";
}

std::string_view actionName(PairAction a) {
  switch (a) {
    case A::StartAttachWait: return "start-attach-wait";
    case A::CancelAttachWait: return "cancel-attach-wait";
    case A::Attach: return "attach";
    case A::RollbackAttach: return "rollback-attach";
    case A::RefuseSecondVf: return "refuse-second-vf";
    case A::ForgetVf: return "forget-vf";
    case A::SwitchTxToVf: return "switch-tx-to-vf";
    case A::SwitchTxToSynthetic: return "switch-tx-to-synthetic";
    case A::Announce: return "announce";
    case A::RunSwitchHook: return "run-switch-hook";
    case A::CountSwitch: return "count-switch";
    case A::StartDrain: return "start-drain";
    case A::RetireVfPort: return "retire-vf-port";
    case A::FoldCounters: return "fold-counters";
    case A::RestoreTap: return "restore-tap";
    case A::ReleaseVf: return "release-vf";
    case A::Hold: return "hold";
    case A::ReleaseHold: return "release-hold";
    case A::OfferCandidate: return "offer-candidate";
    case A::StartCarrierWait: return "start-carrier-wait";
    case A::ProveVfPath: return "prove-vf-path";
    case A::CancelCarrierWait: return "cancel-carrier-wait";
  }
  return "?";
}

}  // namespace tvf
