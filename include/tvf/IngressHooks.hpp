// The one owner of each claimed backend's tc ingress hook (clsact,
// cls_bpf at tvf's handle and priority): src/BackendClaimer. A claim puts
// its drop program there (the user datapath: its packet sockets saw the
// frame first); the kernel datapath asks for its redirect program instead.
// A backend's ingress is never put on the tcx hook (TcRedirect.hpp says
// why), and a tcx program of tvf's found there is removed. The claim
// records (claims.json) say which program each hook runs, so a restarted
// daemon knows what it finds.
//
// Thread: the control thread.
#pragma once

#include <string>
#include <vector>

#include "tvf/Result.hpp"

namespace tvf {

class IngressHooks {
 public:
  virtual ~IngressHooks() = default;
  // From now on `ifindex`'s hook runs `progFd` (a SCHED_CLS program named
  // `name`, kept loaded by the caller while set): at once when the backend
  // is claimed (replacing what runs there, atomically), at its claim
  // otherwise. Errors: the attach's (ENODEV: the netdev is gone; EPERM).
  virtual Status useIngressProgram(int ifindex, int progFd, const std::string& name) = 0;
  // Back to the claim's drop program (when still claimed). Idempotent.
  virtual Status useIngressDrop(int ifindex) = 0;
  // The ifindexes that the previous run's claim records name, with the
  // program each hook ran: what a restarted datapath may adopt.
  virtual std::vector<std::pair<int, std::string>> inheritedHooks() const = 0;
};

}  // namespace tvf
