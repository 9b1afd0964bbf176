// The one owner of each claimed backend's tc ingress hook: src/BackendClaimer.
// A claim puts its drop program on the device's clsact qdisc (cls_bpf at
// tvf's handle and priority; the user datapath: its packet sockets saw the
// frame first); the kernel datapath asks for its redirect program instead,
// either in the drop's place on clsact or on the device's tcx ingress hook,
// which runs before clsact (the drop then stays beneath it, unreached). The
// claim records (claims.json) say which program each hook runs, so a
// restarted daemon knows what it finds.
//
// Thread: the control thread.
#pragma once

#include <string>
#include <vector>

#include "tvf/Result.hpp"

namespace tvf {

// Where a tc program runs on a device's hook.
//   Tcx     the tcx hook (kernel 6.6+, BPF_TCX_INGRESS/EGRESS): the device's
//           hook runs the program directly.
//   Clsact  cls_bpf (direct-action) on a clsact qdisc: the classifier layer
//           (tcf_classify, the qdisc's per-CPU statistics) runs around it.
enum class TcAttachPoint { Clsact, Tcx };

class IngressHooks {
 public:
  virtual ~IngressHooks() = default;
  // From now on `ifindex`'s hook runs `progFd` (a SCHED_CLS program named
  // `name`, kept loaded by the caller while set) at `point`: at once when
  // the backend is claimed (replacing what runs there, atomically), at its
  // claim otherwise. Errors: the attach's (ENODEV: the netdev is gone; EPERM).
  virtual Status useIngressProgram(int ifindex, int progFd, const std::string& name, TcAttachPoint point) = 0;
  // Back to the claim's drop program (when still claimed). Idempotent.
  virtual Status useIngressDrop(int ifindex) = 0;
  // The ifindexes that the previous run's claim records name, with the
  // program each hook ran: what a restarted datapath may adopt.
  virtual std::vector<std::pair<int, std::string>> inheritedHooks() const = 0;
};

}  // namespace tvf
