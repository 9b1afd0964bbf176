// The pair lifecycle as data: PairState x PairEvent -> next state + actions.
// Pure: the table is looked up, never executed here (Pair executes actions).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "tvf/PairState.hpp"

namespace tvf {

enum class PairEvent {
  VfAppeared,         // a matching VF candidate was offered to the pair
  VfVanished,         // the pair's VF left (netlink DELLINK or netns move)
  AttachWaitElapsed,  // attach_wait passed for the current generation
  AttachSucceeded,
  AttachFailed,
  PlannedDetach,      // tvfctl detach (before a migration)
  AttachRequested,    // tvfctl attach: end a planned detach or retry a failure
  PortError,          // a worker saw ENXIO / ENETDOWN / ENODEV on the VF port
  DrainElapsed,       // the planned detach's RX grace period passed
  VfPortRetired,      // every worker stopped using the VF port
  VfCarrierLost,      // the attached VF lost carrier (not a detach)
  VfCarrierUp,        // the attached VF is usable again while TX is on the synthetic
  VfCarrierRestored,  // the carrier wait after VfCarrierUp passed
  VfPortDown,         // a worker saw ENETDOWN on the VF port: carrier loss, not a removal
  AttachRetryElapsed, // the retry time after an attach that failed for want of a resource came
};

// A condition a row needs besides (state, event): lets the table itself
// say where TX goes when the VF is attached but cannot carry traffic yet.
enum class Guard {
  Always,
  VfUsable,     // the VF is present, up, with carrier and an open port
  VfNotUsable,
};

// Where TX is after a transition.
enum class TxAfter { Unchanged, Vf, Synthetic };

enum class PairAction {
  StartAttachWait,
  CancelAttachWait,
  Attach,                // claim, intersect, MTU, flags, up, open port
  RollbackAttach,        // undo a partial attach
  RefuseSecondVf,
  ForgetVf,              // the VF is gone: nothing to release
  SwitchTxToVf,
  SwitchTxToSynthetic,
  Announce,              // gratuitous ARP / unsolicited NA on the new path
  RunSwitchHook,
  CountSwitch,
  StartDrain,
  RetireVfPort,
  FoldCounters,
  RestoreTap,
  ReleaseVf,
  Hold,                  // a planned detach: take no VF until attach
  ReleaseHold,
  OfferCandidate,        // back in NoVf: offer a remaining candidate VF
  StartCarrierWait,      // carrier_up_delay (or the takeover delay) before TX returns to the VF
  ProveVfPath,           // a fresh VF with carrier: TX moves once the path behind it is proven
  CancelCarrierWait,
};

std::string_view eventName(PairEvent e);
std::string_view actionName(PairAction a);

struct Transition {
  PairState next;
  std::vector<PairAction> actions;
  TxAfter tx = TxAfter::Unchanged;
};

// The transition for (state, event) under the guards' values, or nullopt
// when it is illegal. Without `vfUsable`, guarded rows read it as true.
std::optional<Transition> lookupTransition(PairState state, PairEvent event, bool vfUsable = true);

// Every legal (state, event, guard), for tests and documentation.
struct TableRow {
  PairState from;
  PairEvent event;
  Transition to;
  Guard guard = Guard::Always;
};
std::string_view guardName(Guard g);
const std::vector<TableRow>& transitionTable();

}  // namespace tvf
